"""Prometheus metrics shared by `crawl`, workers and the scheduler (no Scrapy import here).

Counters live in prometheus-client's default registry, once per process; queue figures
(length, per-group lag and pending, dead letters) are read from Redis at scrape time by
`QueueCollector`, so a scrape always sees the current backlog. `serve()` starts the HTTP
endpoint when `metrics_port` > 0 (off by default) and is safe to call more than once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from docqueue.stream import DocumentQueue

log = logging.getLogger(__name__)

PAGES = Counter("newsdedup_pages", "HTTP responses received", ["site", "kind", "status"])
ITEMS = Counter("newsdedup_items", "Article pages processed, by outcome (ok, no_article, not_modified, too_old)",
                ["site", "status"])
VERDICTS = Counter("newsdedup_verdicts", "Dedup verdicts (new, duplicate, new_version, unchanged)",
                   ["site", "verdict"])
FAILURES = Counter("newsdedup_fetch_failures", "Requests that failed (failure) or were refused (refused)",
                   ["site", "reason"])
RULE_MISSES = Counter("newsdedup_rule_misses", "Extraction rule misses (title, body, published, fallback)",
                      ["site", "field"])
QUEUED = Counter("newsdedup_documents_queued", "Documents published to the document stream")
DOWNLOAD_SECONDS = Histogram("newsdedup_download_seconds", "Request sent to response received", ["kind"],
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PROCESS_SECONDS = Histogram("newsdedup_processing_seconds",
                            "Response received to item through the pipeline (extraction, dedup batch)",
                            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


class QueueCollector(Collector):
    """Document-stream backlog read from Redis on each scrape."""

    def __init__(self, queue: DocumentQueue) -> None:
        self.queue = queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("newsdedup_redis_up", "1 when Redis answered this scrape")
        try:
            depth = self.queue.depth()
        except (redis.RedisError, OSError) as exc:
            log.debug("metrics: queue depth unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("newsdedup_queue_length", "Entries in the document stream", value=depth["length"])
        yield GaugeMetricFamily("newsdedup_queue_dead_letters", "Entries in the dead-letter stream",
                                value=depth["dead"])
        lag = GaugeMetricFamily("newsdedup_queue_lag", "Entries not yet delivered to the group", labels=["group"])
        pending = GaugeMetricFamily("newsdedup_queue_pending", "Delivered, not acked", labels=["group"])
        for group, g in depth["groups"].items():
            lag.add_metric([group], g["unread"])
            pending.add_metric([group], g["pending"])
        yield lag
        yield pending


_lock = threading.Lock()
_served: dict[int, Any] = {}
_queue_registered: set[int] = set()


def register_queue(queue: DocumentQueue, registry: CollectorRegistry = REGISTRY) -> None:
    """Expose the queue gauges (once per registry)."""
    with _lock:
        if id(registry) in _queue_registered:
            return
        registry.register(QueueCollector(queue))
        _queue_registered.add(id(registry))


def serve(settings: Any, client: redis.Redis | None = None, addr: str = "0.0.0.0") -> Any | None:
    """Start /metrics on `settings.metrics_port` (0: off); returns the HTTP server or None.

    Workers, the scheduler and `crawl` call this; a second call in the same process is a no-op.
    """
    port = int(getattr(settings, "metrics_port", 0) or 0)
    if port <= 0:
        return None
    if client is not None:
        register_queue(DocumentQueue.from_settings(client, settings))
    with _lock:
        if port in _served:
            return _served[port]
        server, _thread = start_http_server(port, addr=addr)
        _served[port] = server
    log.info("metrics on http://%s:%d/metrics", addr, port)
    return server


def stop(port: int) -> None:
    """Stop a server started by `serve` (tests)."""
    with _lock:
        server = _served.pop(port, None)
    if server is not None:
        server.shutdown()
        server.server_close()
