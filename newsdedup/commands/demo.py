"""`newsdedup demo`: start the bundled local mirror and crawl it end to end, offline.

The mirror serves the packaged demo content (the project's seed texts and original
articles) under the real DOM of four Vietnamese news sites, with syndicated copies and
related-news blocks, so the summary shows duplicates dropped and boilerplate removed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from docqueue.redis_conn import connect
from newsdedup.commands.common import settings_from


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="offline: crawl the bundled local mirror into the queue")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (no sample document)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crawler.mirror.server import MirrorServer
    from crawler.runner import run_crawl, sites_for
    from newsdedup.commands.summary import print_summary

    base = settings_from(args)
    with MirrorServer() as mirror:
        origins = mirror.start() if not mirror.origins else mirror.origins
        settings = base.model_copy(update={"site_origins": {**base.site_origins, **origins}})
        sites = sites_for(settings, sorted(origins))
        print(f"mirror: {len(mirror.expected_articles())} article pages on {len(origins)} local sites "
              f"({', '.join(sorted(origins))})", file=sys.stderr)
        summary = run_crawl(settings, sites)
    data = print_summary(summary, [s.name for s in sites], as_json=args.json)
    if not args.json:
        client = connect(settings)
        first = client.xrange(f"{settings.key_prefix}docs", count=1)
        if first:
            doc = orjson.loads(first[0][1][b"doc"])
            print("\nOne cleaned document (the oldest in the queue; read them all with `newsdedup consume`):",
                  file=sys.stderr)
            sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    return 0 if data["pages_fetched"] else 1
