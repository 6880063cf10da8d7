"""Scrapy extension feeding the operations view from a running crawl (no pipeline edits).

- keeps example URLs of rule misses (`HealthMonitor.record_examples`) from `item_scraped`;
- stamps `last_run` per site when the spider opens (the discovery run started);
- copies fetch failures (counted by the spider in Scrapy stats only) into the per-site Redis
  counters, so `newsdedup status` can show failures in the last 24 h;
- checks each crawled site's health periodically and at close, warning once per hour per site.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy import signals
from twisted.internet import task

from crawler.components import components
from crawler.health import FALLBACK, WATCHED, HealthMonitor

log = logging.getLogger(__name__)

CHECK_EVERY = 60.0  # seconds between health checks in a long crawl or worker
FLUSH_AT = 200  # buffered example URLs before a write
_FAILURES = re.compile(r"^newsdedup/([^/]+)/failures$")  # counted by the spider (errback)


class HealthExtension:
    def __init__(self, crawler: Any) -> None:
        c = components(crawler)
        self.crawler = crawler
        self.stats = c.stats
        self.monitor = HealthMonitor.from_settings(c.client, c.settings)
        self.examples: list[tuple[str, str, str]] = []
        self.synced: dict[str, int] = {}
        self.sites: set[str] = set()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> HealthExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.sites.update(getattr(spider, "sites", {}))
        for site in self.sites:
            self.stats.mark(site, "last_run")
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(CHECK_EVERY, now=False)

    def item_scraped(self, item: Any, response: Any, spider: Any = None) -> None:
        site = item.get("site") if isinstance(item, dict) else None
        if not site:
            return
        self.sites.add(site)
        url = response.url
        for name in item.get("missing") or ():
            if name in WATCHED:
                self.examples.append((site, name, url))
        if item.get("fallback"):
            self.examples.append((site, FALLBACK, url))
        if len(self.examples) >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Write buffered example URLs and failure counts (never raises: ops must not stop a crawl)."""
        try:
            entries, self.examples = self.examples, []
            self.monitor.record_examples(entries)
            self._sync_failures()
        except Exception as exc:  # Redis hiccup: the crawl goes on, the next flush retries counts
            log.warning("health bookkeeping failed: %s", exc)

    def _sync_failures(self) -> None:
        for name, value in list(self.crawler.stats.get_stats().items()):
            match = _FAILURES.match(name)
            if match is None:
                continue
            delta = int(value or 0) - self.synced.get(name, 0)
            if delta > 0:
                self.stats.add(match.group(1), {"failures": delta})
                self.synced[name] = int(value or 0)
                self.sites.add(match.group(1))

    def tick(self) -> None:
        self.flush()
        self.check()

    def check(self) -> None:
        for site in sorted(self.sites):
            try:
                self.monitor.warn_if_unhealthy(site)
            except Exception as exc:
                log.warning("health check of %s failed: %s", site, exc)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.tick()
