"""Per-site crawl counters in Redis: totals plus hourly buckets for "last 24 h" views.

Keys: `<prefix>stats:<site>` hash (totals, plus `last_run` / `last_article` epoch seconds)
      `<prefix>stats:<site>:h:<YYYYMMDDHH>` hash (counts of that UTC hour, expire after 48 h)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping

import redis

HOUR_TTL = 48 * 3600


class CrawlStats:
    def __init__(self, client: redis.Redis, prefix: str = "newsdedup:") -> None:
        self.client = client
        self.prefix = prefix

    def key(self, site: str) -> str:
        return f"{self.prefix}stats:{site}"

    def add(self, site: str, counts: Mapping[str, int], now: float | None = None) -> None:
        """Add counters for one site (one round trip)."""
        if not counts:
            return
        stamp = now or time.time()
        hour = time.strftime("%Y%m%d%H", time.gmtime(stamp))
        pipe = self.client.pipeline(transaction=False)
        for name, value in counts.items():
            if value:
                pipe.hincrby(self.key(site), name, int(value))
                pipe.hincrby(f"{self.key(site)}:h:{hour}", name, int(value))
        pipe.expire(f"{self.key(site)}:h:{hour}", HOUR_TTL)
        pipe.execute()

    def mark(self, site: str, field: str, now: float | None = None) -> None:
        self.client.hset(self.key(site), field, f"{now or time.time():.0f}")

    def totals(self, site: str) -> dict[str, int]:
        return {k.decode(): int(float(v)) for k, v in self.client.hgetall(self.key(site)).items()}

    def last_hours(self, site: str, hours: int = 24, now: float | None = None) -> dict[str, int]:
        stamp = now or time.time()
        keys = [f"{self.key(site)}:h:{time.strftime('%Y%m%d%H', time.gmtime(stamp - 3600 * h))}"
                for h in range(hours)]
        pipe = self.client.pipeline(transaction=False)
        for k in keys:
            pipe.hgetall(k)
        total: Counter[str] = Counter()
        for bucket in pipe.execute():
            for k, v in bucket.items():
                total[k.decode()] += int(v)
        return dict(total)
