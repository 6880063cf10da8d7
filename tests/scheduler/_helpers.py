"""Helpers for the scheduler tests: CLI processes against a test Redis and a local mirror."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
import redis

from crawler.mirror import MirrorServer
from crawler.runner import sites_for
from crawler.spider import seen_key
from docqueue.settings import load_settings
from scheduler.tasks import GROUP, TaskQueue
from tests.cli_helpers import ROOT, cli_env


def mirror_env(redis_url: str, mirror: MirrorServer | None = None, **extra: str) -> dict[str, str]:
    """Environment for a CLI child: the test Redis, the mirror's origins, no AutoThrottle delays."""
    env = cli_env(redis_url=redis_url, NEWSDEDUP_AUTOTHROTTLE="false", **extra)
    if mirror is not None:
        env["NEWSDEDUP_SITE_ORIGINS"] = json.dumps(mirror.origins)
    return env


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "newsdedup.cli", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def worker_args(mirror: MirrorServer, consumer: str, *extra: str) -> list[str]:
    args = ["worker", "--consumer", consumer]
    for site in sorted(mirror.origins):
        args += ["--site", site]
    return [*args, *extra]


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def pending_of(client: redis.Redis, consumer: str, prefix: str = "newsdedup:") -> int:
    try:
        consumers = client.xinfo_consumers(f"{prefix}tasks", GROUP)
    except redis.ResponseError:
        return 0
    return sum(int(c["pending"]) for c in consumers if c["name"] in (consumer, consumer.encode()))


def published(client: redis.Redis, prefix: str = "newsdedup:") -> list[tuple[str, int, dict[str, Any]]]:
    return [(f[b"id"].decode(), int(f[b"version"]), orjson.loads(f[b"doc"]))
            for _e, f in client.xrange(f"{prefix}docs")]


def assert_mirror_crawled_once(client: redis.Redis, mirror: MirrorServer, redis_url: str) -> None:
    """Each (id, version) once; every story of the mirror published; every article page durable
    (marked seen); no task pending, unread or waiting; only robots.txt refusals dead-lettered."""
    docs = published(client)
    counts = Counter((doc_id, version) for doc_id, version, _ in docs)
    assert counts and max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
    ids = {doc_id for doc_id, _, _ in docs}
    for story, pages in mirror.content.stories().items():
        assert {f"{a.site}:{a.article_id}" for a in pages} & ids, f"story {story} never published"
    expected = {f"{a.site}:{a.article_id}" for a in mirror.expected_articles()}
    assert ids <= expected
    settings = load_settings(redis_url=redis_url, site_origins=mirror.origins)
    sites = {s.name: s for s in sites_for(settings, sorted(mirror.origins))}
    for article in mirror.expected_articles():
        key = seen_key(sites[article.site], article.url)
        assert client.zscore(f"newsdedup:seen:{article.site}", key) is not None, f"{article.url} not durable"
    depth = TaskQueue(client).depth()
    assert (depth["pending"], depth["undelivered"], depth["delayed"]) == (0, 0, 0), depth
    reasons = [t["reason"] for t in TaskQueue(client).dead_tasks()]
    assert all("robots.txt" in r for r in reasons), reasons
