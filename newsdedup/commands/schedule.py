"""`newsdedup schedule`: the long-running scheduler service (see scheduler.service)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from newsdedup.cli import UsageError
from newsdedup.commands.common import configured_sites, settings_from
from newsdedup.commands.durations import parse_duration

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("schedule", help="long-running scheduler: enqueues site discovery on each site's schedule")
    p.add_argument("--site", action="append", default=[], metavar="NAME", help="only this site (repeatable)")
    p.add_argument("--interval", metavar="DURATION",
                   help="override every site's schedule with this interval (e.g. 5m; for catch-up or tests)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from docqueue.redis_conn import connect
    from scheduler.service import ScheduleService, site_schedules

    try:
        override = parse_duration(args.interval) if args.interval else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if override is not None and override < 1:
        raise UsageError("--interval must be at least 1s")
    settings = settings_from(args)
    sites = configured_sites(settings, args.site)
    client = connect(settings)
    schedules = site_schedules(sites, settings.schedule_interval, override)
    service = ScheduleService(client, settings.key_prefix, schedules)
    for s in schedules:
        log.info("%s: %s (jitter %.0fs, misfire grace %ds)", s.site, s.describe(), s.jitter, s.grace)
    service.run()
    log.warning("scheduler %s stopped: %d slot(s) enqueued, %d already taken by another instance",
                service.instance, service.enqueued, service.skipped)
    return 0
