"""Scrapy extension updating the Prometheus counters of `crawler.metrics` from a crawl.

Pages, items, latencies and rule misses come from Scrapy signals; verdicts, failures and
queued documents are counted by the spider and pipeline in Scrapy stats, so they are copied
as deltas after each durable batch (`items_durable`), on a timer and at close.
"""

from __future__ import annotations

import re
import time
from typing import Any

from scrapy import signals
from twisted.internet import task

from crawler import metrics
from crawler.components import components
from crawler.health import FALLBACK, WATCHED
from crawler.pipelines import items_durable, verdict_names

SYNC_EVERY = 5.0
_FAILURES = {"failures": "failure", "refused": "refused"}
# per-site Scrapy stats `newsdedup/<site>/<stat>` (not the `verdict/` and `failure/` totals)
_SITE_STAT = re.compile(r"^newsdedup/(?!verdict/|failure/)([^/]+)/([a-z_]+)$")
_RECEIVED = "_newsdedup_received"


class MetricsExtension:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.synced: dict[str, int] = {}
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> MetricsExtension:
        ext = cls(crawler)
        c = components(crawler)
        if c.settings.metrics_port:
            metrics.serve(c.settings, c.client)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.sync, signal=items_durable)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any = None) -> None:
        self.loop = task.LoopingCall(self.sync)
        self.loop.start(SYNC_EVERY, now=False)

    def response_received(self, response: Any, request: Any, spider: Any = None) -> None:
        meta = request.meta
        kind = str(meta.get("kind", "other"))
        metrics.PAGES.labels(str(meta.get("site", "?")), kind, str(response.status)).inc()
        latency = meta.get("download_latency")
        if latency is not None:
            metrics.DOWNLOAD_SECONDS.labels(kind).observe(float(latency))
        meta[_RECEIVED] = time.monotonic()

    def item_scraped(self, item: Any, response: Any, spider: Any = None) -> None:
        if not isinstance(item, dict) or "site" not in item:
            return
        site = str(item["site"])
        metrics.ITEMS.labels(site, str(item.get("status", "?"))).inc()
        for name in item.get("missing") or ():
            if name in WATCHED:
                metrics.RULE_MISSES.labels(site, name).inc()
        if item.get("fallback"):
            metrics.RULE_MISSES.labels(site, FALLBACK).inc()
        received = response.meta.get(_RECEIVED) if response is not None else None
        if received is not None:
            metrics.PROCESS_SECONDS.observe(time.monotonic() - received)

    def sync(self, *args: Any, **kwargs: Any) -> None:
        """Copy Scrapy-stats counters into Prometheus as deltas since the last sync."""
        verdicts = set(verdict_names())
        for name, value in list(self.crawler.stats.get_stats().items()):
            match = _SITE_STAT.match(name)
            if match is None and name != "newsdedup/queued":
                continue
            delta = int(value or 0) - self.synced.get(name, 0)
            if delta <= 0:
                continue
            self.synced[name] = int(value or 0)
            if match is None:
                metrics.QUEUED.inc(delta)
                continue
            site, stat = match.groups()
            if stat in verdicts:
                metrics.VERDICTS.labels(site, stat).inc(delta)
            elif stat in _FAILURES:
                metrics.FAILURES.labels(site, _FAILURES[stat]).inc(delta)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.sync()
