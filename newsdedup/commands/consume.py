"""`newsdedup consume`: print queued documents as JSON lines, acking each after it is written."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from newsdedup.commands.common import queue_from, settings_from


def register(sub: Any) -> None:
    p = sub.add_parser("consume", help="print documents from the queue as JSON lines (acked after printing)")
    p.add_argument("--group", help="consumer group (default: setting consumer_group)")
    p.add_argument("--consumer", help="consumer name (default: host-pid)")
    p.add_argument("--limit", type=int, help="stop after N documents")
    p.add_argument("--follow", action="store_true", help="wait for new documents")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        from newsdedup.errors import UsageError

        raise UsageError("--limit must be at least 1")
    settings = settings_from(args)
    _client, queue = queue_from(settings)
    out = sys.stdout.buffer
    for msg in queue.iterate(args.group or settings.consumer_group, args.consumer, limit=args.limit,
                             follow=args.follow):
        out.write(orjson.dumps(msg.doc) + b"\n")
        out.flush()  # acked only once the line is out
    return 0
