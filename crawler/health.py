"""Per-site extraction health: how often a site's rules miss over the last 24 h.

A site changes its markup without notice; the first sign is its YAML rules finding no
title, body or date, or the generic fallback doing the work. The counters are the hourly
buckets written by the crawl pipeline (`crawler.crawl_stats`); this module turns them into
rates, judges them against `health_max_miss_rate` once a site has `health_min_pages`
extracted pages, keeps a few example URLs per failing field, and warns once per hour per
site (across all workers: the hour's warning is claimed with SET NX in Redis).

Keys: `<prefix>health:examples:<site>:<field>` list of recent URLs (newest first, capped, 48 h TTL)
      `<prefix>health:warned:<site>` string, the field warned about (1 h TTL)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from crawler.crawl_stats import CrawlStats

log = logging.getLogger(__name__)

#: Rule misses watched (names from ExtractedArticle.missing) plus the generic fallback.
WATCHED = ("title", "body", "published")
FALLBACK = "fallback"
EXAMPLES_KEPT = 5
EXAMPLES_TTL = 48 * 3600
WARN_EVERY = 3600


@dataclass
class SiteHealth:
    """The verdict on one site, with the figures behind it."""

    site: str
    pages: int  # pages that went through extraction in the window (304s excluded)
    rates: dict[str, float] = field(default_factory=dict)
    failing: list[str] = field(default_factory=list)  # worst first
    reasons: list[str] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)
    judged: bool = False  # False: too few pages to say

    @property
    def healthy(self) -> bool:
        return not self.failing

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "judged": self.judged, "pages": self.pages,
                "rates": {k: round(v, 4) for k, v in self.rates.items()}, "failing": self.failing,
                "reasons": self.reasons, "examples": self.examples}


class HealthMonitor:
    """Rates from the hourly counters, example URLs, and the once-per-hour warning."""

    def __init__(self, client: redis.Redis, prefix: str = "newsdedup:", max_rate: float = 0.2,
                 min_pages: int = 5, hours: int = 24) -> None:
        self.client = client
        self.prefix = prefix
        self.max_rate = max_rate
        self.min_pages = min_pages
        self.hours = hours
        self.stats = CrawlStats(client, prefix)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Any) -> HealthMonitor:
        return cls(client, settings.key_prefix, settings.health_max_miss_rate, settings.health_min_pages)

    def examples_key(self, site: str, name: str) -> str:
        return f"{self.prefix}health:examples:{site}:{name}"

    def warned_key(self, site: str) -> str:
        return f"{self.prefix}health:warned:{site}"

    def record_examples(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """Remember (site, field, url) misses: newest few per site and field, one round trip."""
        pipe = self.client.pipeline(transaction=False)
        touched = set()
        for site, name, url in entries:
            key = self.examples_key(site, name)
            pipe.lpush(key, url)
            touched.add(key)
        if not touched:
            return
        for key in touched:
            pipe.ltrim(key, 0, EXAMPLES_KEPT - 1)
            pipe.expire(key, EXAMPLES_TTL)
        pipe.execute()

    def assess(self, site: str, counts: Mapping[str, int], with_examples: bool = True) -> SiteHealth:
        """Judge one site from its window counters (the `last_hours` sums)."""
        pages = max(0, int(counts.get("pages", 0)) - int(counts.get("not_modified", 0)))
        health = SiteHealth(site=site, pages=pages, judged=pages >= self.min_pages)
        if pages:
            for name in WATCHED:
                health.rates[name] = counts.get(f"missing_{name}", 0) / pages
            health.rates[FALLBACK] = counts.get("fallbacks", 0) / pages
        if health.judged:
            order = [*WATCHED, FALLBACK]  # ties: the rule that broke before its consequence
            over = [n for n, r in health.rates.items() if r > self.max_rate]
            health.failing = sorted(over, key=lambda n: (-health.rates[n], order.index(n)))
        for name in health.failing:
            what = "generic fallback used" if name == FALLBACK else f"{name} rule missed"
            health.reasons.append(f"{what} on {health.rates[name]:.0%} of {pages} pages in "
                                  f"{self.hours} h (threshold {self.max_rate:.0%})")
        if with_examples and health.failing:
            pipe = self.client.pipeline(transaction=False)
            for name in health.failing:
                pipe.lrange(self.examples_key(site, name), 0, EXAMPLES_KEPT - 1)
            for name, urls in zip(health.failing, pipe.execute(), strict=True):
                health.examples[name] = [u.decode() for u in urls]
        return health

    def check(self, site: str, now: float | None = None) -> SiteHealth:
        return self.assess(site, self.stats.last_hours(site, self.hours, now))

    def warn_if_unhealthy(self, site: str, now: float | None = None) -> SiteHealth:
        """Log one warning per site per hour (shared by all workers) naming the field and a URL."""
        health = self.check(site, now)
        if health.healthy:
            return health
        worst = health.failing[0]
        if not self.client.set(self.warned_key(site), worst, nx=True, ex=WARN_EVERY):
            return health
        example = (health.examples.get(worst) or ["(no example recorded)"])[0]
        log.warning("site %s extraction unhealthy: %s; e.g. %s", site, "; ".join(health.reasons), example,
                    extra={"site": site, "field": worst, "rate": round(health.rates[worst], 4),
                           "pages": health.pages, "example_url": example, "event": "extraction_health"})
        return health
