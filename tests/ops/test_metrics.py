"""/metrics: the counters a crawl produced, scraped over HTTP, and the queue gauges read from Redis."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import redis
from prometheus_client import CollectorRegistry, generate_latest

from crawler import metrics
from crawler.mirror.sites import MIRRORED
from docqueue.settings import load_settings
from docqueue.stream import DocumentQueue
from tests.cli_helpers import cli_env
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

# Crawl the mirror in a fresh process (Twisted runs once per process), then scrape its own /metrics.
SCRIPT = """
import sys, urllib.request
from crawler.runner import run_crawl, sites_for
from docqueue.settings import load_settings
settings = load_settings()
run_crawl(settings, sites_for(settings, sorted(settings.site_origins)))
port = settings.metrics_port
sys.stdout.write(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode())
"""


def sample(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for m in re.finditer(rf"^{name}(?:\{{(.*?)\}})? (\S+)$", text, re.M):
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def test_metrics_endpoint_after_a_crawl(redis_url: str, demo_mirror: Any) -> None:
    port = free_port()
    env = cli_env(redis_url=redis_url, NEWSDEDUP_METRICS_PORT=str(port),
                  NEWSDEDUP_SITE_ORIGINS=json.dumps(demo_mirror.origins))
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=240)
    assert res.returncode == 0, res.stderr[-2000:]
    text = res.stdout
    queued = DocumentQueue(redis.Redis.from_url(redis_url)).depth()["length"]
    for site in MIRRORED:
        assert sample(text, "newsdedup_pages_total", site=site, kind="article", status="200") > 0, site
        assert sample(text, "newsdedup_items_total", site=site, status="ok") > 0, site
        assert sample(text, "newsdedup_verdicts_total", site=site) == sample(
            text, "newsdedup_items_total", site=site, status="ok"), site
    assert sample(text, "newsdedup_verdicts_total", verdict="duplicate") > 0
    assert sample(text, "newsdedup_documents_queued_total") == queued > 0
    assert sample(text, "newsdedup_queue_length") == queued
    assert sample(text, "newsdedup_redis_up") == 1
    assert sample(text, "newsdedup_download_seconds_count", kind="article") > 0
    assert sample(text, "newsdedup_processing_seconds_count") > 0


def test_queue_gauges_show_lag_pending_and_dead(redis_client: redis.Redis) -> None:
    queue = DocumentQueue(redis_client, max_deliveries=1)
    docs = [{"id": f"t:{i}", "url": f"https://example.com/{i}", "canonical_url": f"https://example.com/{i}",
             "site": "t", "title": "T", "text": "body",
             "version": 1} for i in range(5)]
    queue.publish(docs)
    queue.read("indexer", "c1", count=2)  # 2 delivered, unacked -> pending 2, lag 3
    registry = CollectorRegistry()
    metrics.register_queue(queue, registry)
    metrics.register_queue(queue, registry)  # idempotent
    text = generate_latest(registry).decode()
    assert sample(text, "newsdedup_queue_length") == 5
    assert sample(text, "newsdedup_queue_lag", group="indexer") == 3
    assert sample(text, "newsdedup_queue_pending", group="indexer") == 2
    assert sample(text, "newsdedup_queue_dead_letters") == 0


def test_queue_gauges_say_redis_down() -> None:
    client = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    registry = CollectorRegistry()
    metrics.register_queue(DocumentQueue(client), registry)
    text = generate_latest(registry).decode()
    assert sample(text, "newsdedup_redis_up") == 0 and "newsdedup_queue_length" not in text


def test_serve_is_off_by_default_and_serves_when_set(redis_client: redis.Redis, redis_url: str) -> None:
    assert metrics.serve(load_settings(redis_url=redis_url)) is None
    port = free_port()
    settings = load_settings(redis_url=redis_url, metrics_port=port)
    server = metrics.serve(settings, redis_client, addr="127.0.0.1")
    try:
        assert metrics.serve(settings, redis_client, addr="127.0.0.1") is server
        metrics.QUEUED.inc(0)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        assert "newsdedup_documents_queued_total" in body and "newsdedup_queue_length" in body
    finally:
        metrics.stop(port)
