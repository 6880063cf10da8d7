"""`newsdedup status`: effective settings (secrets masked), Redis health, queue depth."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
import redis

from docqueue.redis_conn import RedisUnavailable, connect, describe
from docqueue.stream import DocumentQueue
from newsdedup.commands.common import settings_from


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="settings, Redis health, queue depth")
    p.add_argument("--json", action="store_true", help="one JSON object for scripts")
    p.set_defaults(func=run)


def collect(settings: Any) -> dict[str, Any]:
    report: dict[str, Any] = {"settings": settings.masked(), "redis": {"target": describe(settings)}}
    try:
        client = connect(settings)
    except RedisUnavailable as exc:
        report["redis"].update(ok=False, error=str(exc))
        return report
    info = client.info()
    report["redis"].update(ok=True, version=info.get("redis_version"), used_memory=info.get("used_memory"),
                           keys=client.dbsize())
    try:
        report["queue"] = DocumentQueue.from_settings(client, settings).depth()
    except redis.RedisError as exc:
        report["queue"] = {"error": str(exc)}
    return report


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    report = collect(settings)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        from newsdedup.commands.status_view import render

        render(report)
    return 0 if report["redis"].get("ok") else 1
