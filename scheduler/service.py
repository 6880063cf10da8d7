"""`newsdedup schedule`: the APScheduler service that enqueues "discover site S" tasks.

Jobs are rebuilt from the site YAML at every start (interval or cron, default `schedule_interval`)
— nothing is pickled into Redis. Per job: jitter (10 % of the period, at most 5 min), coalesce,
misfire grace of half the period, one run at a time. Interval slots are aligned to the epoch so
every scheduler instance computes the same slots; a Redis lock per (site, slot), taken in the same
Lua call that XADDs the task, makes a second instance harmless: each slot is enqueued once.

Keys: <prefix>schedule:<site>         hash (see `publish`): trigger, next_run, last_slot, …
      <prefix>schedlock:<site>:<slot> the slot lock (SET NX EX), value: the instance that won
"""

from __future__ import annotations

import logging
import math
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.site_config import SiteConfig
from scheduler.tasks import TaskQueue

log = logging.getLogger(__name__)

MAX_JITTER = 300.0

# Take the slot lock and enqueue the discovery task atomically: a crash cannot lose the slot.
_FIRE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', tonumber(ARGV[2])) then
  return false
end
return redis.call('XADD', KEYS[2], '*', 'kind', 'discover', 'site', ARGV[3], 'url', '', 'force', '0',
                  'attempt', '0', 'origin', 'schedule', 'slot', ARGV[4], 'created', ARGV[5])
"""


@dataclass(frozen=True)
class SiteSchedule:
    """When one site's discovery runs: every `interval` seconds, or on a 5-field `cron`."""

    site: str
    interval: float | None = None
    cron: str | None = None

    def base_trigger(self, tz: Any = UTC) -> IntervalTrigger | CronTrigger:
        if self.cron:
            minute, hour, day, month, dow = self.cron.split()
            return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_dow(dow),
                               timezone=tz)
        assert self.interval
        start = datetime.fromtimestamp(math.floor(time.time() / self.interval) * self.interval, UTC)
        return IntervalTrigger(seconds=self.interval, start_date=start, timezone=UTC)

    @property
    def period(self) -> float:
        """Seconds between runs (for cron: the first gap from now)."""
        if self.interval:
            return self.interval
        trigger = self.base_trigger()
        first = trigger.get_next_fire_time(None, datetime.now(UTC))
        second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
        return (second - first).total_seconds() if first and second else 86400.0

    @property
    def jitter(self) -> float:
        return min(MAX_JITTER, self.period * 0.1)

    @property
    def grace(self) -> int:
        return max(1, int(self.period / 2))

    def describe(self) -> str:
        return f"cron {self.cron}" if self.cron else f"every {self.interval:g}s"

    def slot(self, run_time: datetime) -> datetime:
        """The un-jittered fire time a (possibly jittered) run time belongs to."""
        if self.interval:
            return datetime.fromtimestamp(math.floor(run_time.timestamp() / self.interval) * self.interval, UTC)
        trigger = self.base_trigger(run_time.tzinfo or UTC)
        at = trigger.get_next_fire_time(None, run_time - timedelta(seconds=self.jitter + 1))
        best = at
        while at is not None and at <= run_time:
            best = at
            at = trigger.get_next_fire_time(at, at + timedelta(seconds=1))
        return best or run_time


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_dow(field: str) -> str:
    """Crontab weekday numbers (0 or 7 = Sunday) as names: APScheduler counts from Monday."""
    return re.sub(r"(?<![/\d])(\d+)", lambda m: _DAYS[int(m.group(1)) % 7], field)


def site_schedules(sites: Sequence[SiteConfig], default_interval: float,
                   override: float | None = None) -> list[SiteSchedule]:
    """The schedule of each site: its YAML `schedule`, else the default interval."""
    out = []
    for site in sites:
        rule = site.schedule if "schedule" in site.model_fields_set else None
        if override is not None:
            out.append(SiteSchedule(site.name, interval=override))
        elif rule is not None and rule.cron:
            out.append(SiteSchedule(site.name, cron=rule.cron))
        else:
            seconds = rule.seconds if rule is not None else None
            out.append(SiteSchedule(site.name, interval=seconds or default_interval))
    return out


class _SlotExecutor(ThreadPoolExecutor):
    """Remembers each job's scheduled run time, so the job knows exactly which slot it runs for
    (max_instances=1 guarantees no other run of that job is in between)."""

    def __init__(self, hints: dict[str, datetime]) -> None:
        super().__init__(4)
        self.hints = hints

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self.hints[job.id] = run_times[-1]
        super()._do_submit_job(job, run_times)


class ScheduleService:
    """One scheduler instance; any number may run against the same Redis."""

    def __init__(self, client: redis.Redis, prefix: str, schedules: Sequence[SiteSchedule],
                 instance: str | None = None, tz: Any = None) -> None:
        self.client = client
        self.prefix = prefix
        self.schedules = {s.site: s for s in schedules}
        self.instance = instance or f"{socket.gethostname()}-{os.getpid()}"
        self.tasks = TaskQueue(client, prefix)
        self._fire = client.register_script(_FIRE)
        self.hints: dict[str, datetime] = {}
        self.tz = tz
        self.scheduler = BlockingScheduler(executors={"default": _SlotExecutor(self.hints)},
                                           timezone=tz or UTC)
        self.enqueued = 0
        self.skipped = 0
        self._lock = threading.Lock()

    def schedule_key(self, site: str) -> str:
        return f"{self.prefix}schedule:{site}"

    def add_jobs(self) -> None:
        for s in self.schedules.values():
            trigger = s.base_trigger(self.tz or UTC)
            trigger.jitter = s.jitter or None
            self.scheduler.add_job(self.fire, trigger, args=[s.site], id=s.site, name=f"discover {s.site}",
                                   coalesce=True, misfire_grace_time=s.grace, max_instances=1,
                                   replace_existing=True)
            self.publish(s.site)

    def fire(self, site: str) -> bool:
        """Enqueue the discovery of `site` for the slot being run, unless another instance did."""
        s = self.schedules[site]
        run_time = self.hints.get(site) or datetime.now(UTC)
        slot = s.slot(run_time)
        stamp = f"{slot.timestamp():.0f}"
        ttl = int(max(60, 2 * s.period + s.jitter))
        entry = self._fire(keys=[f"{self.prefix}schedlock:{site}:{stamp}", self.tasks.stream],
                           args=[self.instance, ttl, site, stamp, repr(time.time())])
        with self._lock:
            if entry:
                self.enqueued += 1
            else:
                self.skipped += 1
        if entry:
            log.info("%s: discovery enqueued for slot %s", site, slot.isoformat())
        else:
            log.debug("%s: slot %s already enqueued by another scheduler", site, slot.isoformat())
        self.publish(site, slot=stamp, enqueued=bool(entry))
        return bool(entry)

    def publish(self, site: str, slot: str | None = None, enqueued: bool = False) -> None:
        """Write the site's schedule and next run time for `newsdedup status`."""
        s = self.schedules[site]
        nxt = s.base_trigger(self.tz or UTC).get_next_fire_time(None, datetime.now(UTC) + timedelta(seconds=0.001))
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        mapping: dict[str, Any] = {"site": site, "trigger": s.describe(), "jitter": f"{s.jitter:g}",
                                   "misfire_grace": str(s.grace), "scheduler": self.instance, "updated": now}
        if nxt is not None:
            mapping["next_run"] = nxt.astimezone(UTC).isoformat()
            mapping["next_run_ts"] = f"{nxt.timestamp():.3f}"
        if slot is not None:
            mapping["last_slot"] = slot
        if enqueued:
            mapping["last_enqueued"] = now
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.schedule_key(site), mapping=mapping)
        pipe.expire(self.schedule_key(site), int(max(300, 3 * s.period)))
        pipe.execute()

    def run(self) -> None:
        """Block until SIGTERM/SIGINT."""
        self.tasks.ensure_group()
        self.add_jobs()

        def _shutdown(signum: int) -> None:
            log.warning("signal %d: scheduler stopping", signum)  # not in the handler: logging may be mid-write
            self.scheduler.shutdown(wait=False)

        def _stop(signum: int, _frame: Any) -> None:
            threading.Thread(target=_shutdown, args=(signum,), daemon=True).start()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        log.info("scheduler %s: %d site(s)", self.instance, len(self.schedules))
        self.scheduler.start()


def read_schedules(client: redis.Redis, prefix: str) -> dict[str, dict[str, str]]:
    """Every site's published schedule (for `newsdedup status`): site -> fields."""
    out: dict[str, dict[str, str]] = {}
    for key in client.scan_iter(match=f"{prefix}schedule:*", count=500):
        name = key.decode() if isinstance(key, bytes) else key
        data = client.hgetall(name)
        fields = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                  for k, v in data.items()}
        if fields:
            out[name[len(prefix) + len("schedule:"):]] = fields
    return dict(sorted(out.items()))
