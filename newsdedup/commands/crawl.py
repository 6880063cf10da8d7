"""`newsdedup crawl`: discovery, fetch, dedup and publish in one process."""

from __future__ import annotations

import argparse
import time
from typing import Any

from newsdedup.commands.common import configured_sites, settings_from
from newsdedup.commands.durations import parse_duration
from newsdedup.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser("crawl", help="crawl the configured sites once, in this process")
    p.add_argument("--site", action="append", default=[], metavar="NAME", help="only this site (repeatable)")
    p.add_argument("--limit", type=int, help="at most N new article pages per site")
    p.add_argument("--since", help="only articles published within this window (e.g. 2d)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crawler.runner import run_crawl
    from newsdedup.commands.summary import print_summary

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    try:
        since = time.time() - parse_duration(args.since) if args.since else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = settings_from(args)
    sites = configured_sites(settings, args.site)
    summary = run_crawl(settings, sites, limit=args.limit, since=since)
    print_summary(summary, [s.name for s in sites], as_json=args.json)
    return 0
