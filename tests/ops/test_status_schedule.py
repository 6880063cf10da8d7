"""`status` shows the scheduler's next run per site (from `<prefix>schedule:<site>`), else "not scheduled"."""

from __future__ import annotations

import redis

from docqueue.settings import load_settings
from newsdedup.commands.status import collect


def test_next_run_comes_from_the_scheduler_hash(redis_url: str, redis_client: redis.Redis) -> None:
    redis_client.hset("newsdedup:schedule:nld", mapping={"next_run_ts": "1800000000.000", "trigger": "every 20m"})
    report = collect(load_settings(redis_url=redis_url))
    sites = {s["site"]: s for s in report["sites"]}
    assert sites["nld"]["next_run"] == "2027-01-15T08:00:00Z" and sites["nld"]["schedule"] == "every 20m"
    assert sites["dantri"]["next_run"] is None and sites["dantri"]["last_24h"]["pages"] == 0
    assert sites["dantri"]["healthy"] is True and sites["dantri"]["health"]["judged"] is False
    assert report["tasks"]["length"] == 0
