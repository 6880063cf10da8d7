"""`newsdedup worker`: a long-running crawl worker fed from the task stream (see scheduler.worker)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from newsdedup.cli import UsageError
from newsdedup.commands.common import configured_sites, settings_from

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("worker", help="long-running crawl worker: takes crawl tasks from Redis")
    p.add_argument("--site", action="append", default=[], metavar="NAME",
                   help="sites this worker knows (default: all configured)")
    p.add_argument("--reclaim-idle", type=float, metavar="SECONDS",
                   help="reclaim tasks of a silent worker after this long (default: queue_reclaim_idle)")
    p.add_argument("--max-attempts", type=int, metavar="N",
                   help="attempts of a transiently failing task before it is dead (default: queue_max_deliveries)")
    p.add_argument("--retry-base", type=float, default=10.0, metavar="SECONDS",
                   help="first retry delay; doubles per attempt (default: 10)")
    p.add_argument("--grace", type=float, default=25.0, metavar="SECONDS",
                   help="on SIGTERM/SIGINT, finish tasks in flight for up to this long (default: 25)")
    p.add_argument("--exit-when-idle", type=float, metavar="SECONDS",
                   help="batch mode: exit once no task is left anywhere for this long")
    p.add_argument("--consumer", help="consumer name in the group (default: host-pid)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crawler.runner import run_spider
    from docqueue.redis_conn import connect
    from scheduler.worker import TaskWorkerSpider, WorkerOptions

    for name in ("reclaim_idle", "retry_base", "grace", "exit_when_idle"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise UsageError(f"--{name.replace('_', '-')} must not be negative")
    if args.max_attempts is not None and args.max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    settings = settings_from(args)
    sites = configured_sites(settings, args.site)
    connect(settings)  # fail fast (exit 1) when Redis is unreachable
    options = WorkerOptions(reclaim_idle=args.reclaim_idle, max_attempts=args.max_attempts,
                            retry_base=args.retry_base, grace=args.grace, exit_when_idle=args.exit_when_idle)
    if args.consumer:
        options.consumer = args.consumer

    def on_signal(crawler: Any, count: int) -> None:
        spider = crawler.spider
        if count == 1 and spider is not None:
            spider.begin_drain()
        elif spider is not None:
            spider.stop_now("shutdown")

    summary = run_spider(settings, TaskWorkerSpider, on_signal=on_signal, sites=sites, options=options)
    log.warning("worker %s stopped: %d task(s) done, %d reclaimed, %d retried, %d dead, %d pages",
                options.consumer, summary.get("newsdedup/tasks_done"), summary.get("newsdedup/tasks_reclaimed"),
                summary.get("newsdedup/tasks_retried"),
                summary.get("newsdedup/tasks_dead"), summary.pages)
    return 0
