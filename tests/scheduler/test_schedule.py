"""The scheduler service: per-site triggers from the YAML, slots shared by every instance, and two
instances running at once enqueue each (site, slot) exactly once."""

from __future__ import annotations

import re
import signal
from collections import Counter
from datetime import UTC, datetime

import pytest
import redis

from crawler.runner import sites_for
from docqueue.settings import load_settings
from scheduler.service import ScheduleService, SiteSchedule, read_schedules, site_schedules
from tests.scheduler._helpers import mirror_env, spawn, wait_for


def test_two_schedulers_enqueue_each_slot_once(redis_url: str, redis_client: redis.Redis) -> None:
    env = mirror_env(redis_url)
    args = ("schedule", "--interval", "1s", "--site", "vnexpress", "--site", "dantri")
    procs = [spawn(*args, env=env) for _ in range(2)]

    def slots() -> Counter[tuple[str, str]]:
        return Counter((f[b"site"].decode(), f[b"slot"].decode())
                       for _e, f in redis_client.xrange("newsdedup:tasks") if f[b"kind"] == b"discover")

    try:
        wait_for(lambda: len(slots()) >= 6, timeout=60, what="three slots per site")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        errs = [p.communicate(timeout=30)[1] for p in procs]
    for p, err in zip(procs, errs, strict=True):
        assert p.returncode == 0, err[-2000:]
    counts = slots()
    assert set(counts.values()) == {1}, counts
    per_site = Counter(site for site, _slot in counts)
    assert per_site["vnexpress"] >= 3 and per_site["dantri"] >= 2
    enqueued = skipped = 0
    for err in errs:
        m = re.search(r"(\d+) slot\(s\) enqueued, (\d+) already taken", err)
        assert m, err[-1000:]
        enqueued += int(m.group(1))
        skipped += int(m.group(2))
    assert enqueued == sum(counts.values())
    assert skipped > 0  # the second instance really competed for the same slots
    schedules = read_schedules(redis_client, "newsdedup:")
    assert set(schedules) == {"vnexpress", "dantri"}
    assert schedules["vnexpress"]["trigger"] == "every 1s"
    assert float(schedules["dantri"]["next_run_ts"]) > 0 and schedules["dantri"]["last_slot"]


def test_site_schedules_come_from_yaml_with_default() -> None:
    settings = load_settings(schedule_interval=123)
    sites = sites_for(settings, ["vnexpress", "nld"])
    by_site = {s.site: s for s in site_schedules(sites, settings.schedule_interval)}
    assert by_site["vnexpress"].interval == 20 * 60  # `schedule: {interval: 20m}` in its YAML
    assert by_site["nld"].interval == 30 * 60
    unset = sites[0].model_copy(update={"name": "plain"})
    object.__setattr__(unset, "__pydantic_fields_set__", unset.model_fields_set - {"schedule"})
    assert site_schedules([unset], 123)[0].interval == 123
    assert {s.interval for s in site_schedules(sites, 123, override=5)} == {5}
    s = by_site["vnexpress"]
    assert s.grace == 600 and s.jitter == 120  # half the interval; 10 % jitter


def test_slots_are_the_unjittered_fire_times() -> None:
    every = SiteSchedule("x", interval=600)
    run = datetime(2026, 1, 1, 10, 20, 37, tzinfo=UTC)  # 37 s of jitter after 10:20
    assert every.slot(run) == datetime(2026, 1, 1, 10, 20, tzinfo=UTC)
    cron = SiteSchedule("y", cron="*/15 * * * *")
    assert cron.period == 900 and cron.grace == 450 and cron.jitter == 90
    assert cron.slot(datetime(2026, 1, 1, 10, 31, 10, tzinfo=UTC)) == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    sunday = SiteSchedule("z", cron="0 6 * * 0").base_trigger()  # crontab: 0 is Sunday
    fire = sunday.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC))  # a Thursday
    assert fire == datetime(2026, 1, 4, 6, 0, tzinfo=UTC)
    weekdays = SiteSchedule("w", cron="*/30 8 * * 1-5").base_trigger()
    assert weekdays.get_next_fire_time(None, datetime(2026, 1, 3, tzinfo=UTC)) == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_slot_lock_enqueues_once_per_slot(redis_client: redis.Redis) -> None:
    a = ScheduleService(redis_client, "newsdedup:", [SiteSchedule("vnexpress", interval=60)], instance="a")
    b = ScheduleService(redis_client, "newsdedup:", [SiteSchedule("vnexpress", interval=60)], instance="b")
    run = datetime(2026, 1, 1, 10, 0, 3, tzinfo=UTC)
    a.hints["vnexpress"] = run
    b.hints["vnexpress"] = datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)  # same slot, other jitter
    assert a.fire("vnexpress") is True
    assert b.fire("vnexpress") is False
    b.hints["vnexpress"] = datetime(2026, 1, 1, 10, 1, 0, tzinfo=UTC)
    assert b.fire("vnexpress") is True
    assert redis_client.xlen("newsdedup:tasks") == 2
    lock = redis_client.get(f"newsdedup:schedlock:vnexpress:{int(run.timestamp()) - 3}")
    assert lock == b"a" and redis_client.ttl(f"newsdedup:schedlock:vnexpress:{int(run.timestamp()) - 3}") > 0


@pytest.mark.parametrize("interval", ["0s", "soon"])
def test_bad_interval_is_a_usage_error(redis_url: str, interval: str) -> None:
    proc = spawn("schedule", "--interval", interval, env=mirror_env(redis_url))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1, err
