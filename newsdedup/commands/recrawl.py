"""`newsdedup recrawl`: re-discover sites, refetch URLs or the last window, now or via the workers."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from newsdedup.cli import UsageError
from newsdedup.commands.common import configured_sites, settings_from
from newsdedup.commands.durations import parse_duration


def register(sub: Any) -> None:
    p = sub.add_parser("recrawl", help="re-crawl sites or URLs on demand (in this process, or --enqueue)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--site", action="append", metavar="NAME", help="rediscover this site now (repeatable)")
    what.add_argument("--url", action="append", metavar="URL", help="refetch this page even if seen (repeatable)")
    what.add_argument("--since", metavar="DURATION", help="refetch the articles fetched within this window (2d)")
    p.add_argument("--force", action="store_true",
                   help="--site: refetch articles already seen; --url/--since: full fetch, no conditional GET")
    p.add_argument("--dry-run", action="store_true", help="print what would be fetched, one URL per line")
    p.add_argument("--enqueue", action="store_true", help="enqueue crawl tasks for `newsdedup worker` instead")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scheduler.recrawl import RefusedURL, check_recrawl_url

    settings = settings_from(args)
    sites = configured_sites(settings, args.site)
    since = None
    if args.since:
        try:
            since = time.time() - parse_duration(args.since)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    targets: list[tuple[Any, str]] = []
    for url in args.url or []:  # validated before anything connects or fetches
        try:
            targets.append((check_recrawl_url(url, sites, settings.site_origins), url))
        except RefusedURL as exc:
            raise UsageError(str(exc)) from None
    from docqueue.redis_conn import connect
    from scheduler.recrawl import since_targets, unique_targets

    if args.url and args.dry_run:  # nothing to look up: no Redis needed
        for _site, url in unique_targets(targets):
            print(url)
        return 0

    client = connect(settings)
    if since is not None:
        from crawler.seen_store import SeenStore

        seen = SeenStore(client, settings.key_prefix, settings.seen_ttl_days * 86400)
        targets, unmapped = since_targets(client, settings.key_prefix, seen, sites, since)
        if unmapped:
            print(f"newsdedup recrawl: {unmapped} article(s) fetched in the window have no known URL "
                  "(never published); skipped", file=sys.stderr)
    targets = unique_targets(targets)
    if args.enqueue:
        return _enqueue(args, settings, client, sites, targets)
    if args.dry_run and since is not None:
        for _site, url in targets:
            print(url)
        return 0
    return _in_process(args, settings, sites, targets)


def _enqueue(args: argparse.Namespace, settings: Any, client: Any, sites: list[Any],
             targets: list[tuple[Any, str]]) -> int:
    from scheduler.tasks import ARTICLE, DISCOVER, Task, TaskQueue

    if args.site:
        tasks = [Task(DISCOVER, s.name, force=args.force, origin="recrawl") for s in sites]
    else:
        tasks = [Task(ARTICLE, s.name, url=u, force=True, origin="recrawl") for s, u in targets]
    if args.dry_run:
        for t in tasks:
            print(t.url or f"discover {t.site}")
        return 0
    entries = TaskQueue.from_settings(client, settings).add(tasks)
    for entry, t in zip(entries, tasks, strict=True):
        print(f"{entry}\t{t.kind}\t{t.site}\t{t.url}")
    print(f"newsdedup recrawl: {len(entries)} task(s) enqueued for the workers", file=sys.stderr)
    return 0


def _in_process(args: argparse.Namespace, settings: Any, sites: list[Any], targets: list[tuple[Any, str]]) -> int:
    from rich.progress import Progress

    from crawler.runner import run_spider
    from newsdedup.commands.summary import print_summary
    from scheduler.recrawl import RecrawlSpider

    discover = bool(args.site)
    crawl_sites = sites if discover else list({s.name: s for s, _ in targets}.values())
    if not crawl_sites:
        print("newsdedup recrawl: nothing to fetch", file=sys.stderr)
        return 0
    extra: dict[str, Any] | None = {"ITEM_PIPELINES": {}} if args.dry_run else None
    kwargs: dict[str, Any] = {"sites": crawl_sites, "urls": targets, "discover": discover,
                              "force": args.force if discover else True, "dry_run": args.dry_run,
                              "full_fetch": args.force and not discover}
    summary_sites = [s.name for s in crawl_sites]
    if sys.stderr.isatty() and not args.dry_run:
        with Progress(transient=True) as progress:
            bar = progress.add_task("re-crawl", total=len(targets) or None)
            kwargs["progress"] = lambda n: progress.advance(bar, n)
            summary, spider = _run(settings, RecrawlSpider, extra, kwargs, run_spider)
    else:
        summary, spider = _run(settings, RecrawlSpider, extra, kwargs, run_spider)
    if args.dry_run:
        for url in spider.would_fetch:
            print(url)
        return 0
    print_summary(summary, summary_sites, as_json=args.json)
    failed = 0
    for _site, url in targets:
        outcome = spider.outcomes.get(url, "not fetched")
        if outcome not in ("ok", "not_modified", "no_article"):
            failed += 1
            print(f"newsdedup recrawl: {url}: {outcome}", file=sys.stderr)
    return 1 if failed else 0


def _run(settings: Any, spidercls: type, extra: Any, kwargs: dict[str, Any], run_spider: Any) -> tuple[Any, Any]:
    holder: dict[str, Any] = {}

    class _Keep(spidercls):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            holder["spider"] = self

    summary = run_spider(settings, _Keep, extra_scrapy=extra, **kwargs)
    return summary, holder["spider"]
