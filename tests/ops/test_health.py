"""Extraction health judged from the hourly counters: thresholds, examples, one warning per hour."""

from __future__ import annotations

import logging

import pytest
import redis

from crawler.crawl_stats import CrawlStats
from crawler.health import EXAMPLES_KEPT, HealthMonitor


def monitor(client: redis.Redis) -> HealthMonitor:
    return HealthMonitor(client, "t:", max_rate=0.2, min_pages=5)


def test_rates_over_threshold_fail_worst_first(redis_client: redis.Redis) -> None:
    h = monitor(redis_client).assess("s", {"pages": 10, "missing_body": 3, "missing_title": 9, "fallbacks": 2})
    assert not h.healthy and h.judged
    assert h.failing == ["title", "body"]  # 90 % then 30 %; fallback at exactly 20 % is not over
    assert h.rates["published"] == 0.0
    assert "title rule missed on 90% of 10 pages" in h.reasons[0]


def test_too_few_pages_is_not_judged(redis_client: redis.Redis) -> None:
    h = monitor(redis_client).assess("s", {"pages": 4, "missing_body": 4})
    assert h.healthy and not h.judged and h.rates["body"] == 1.0


def test_not_modified_pages_do_not_count(redis_client: redis.Redis) -> None:
    # 304s are never extracted: 6 pages, 5 of them 304 -> 1 extracted page, too few to judge
    h = monitor(redis_client).assess("s", {"pages": 6, "not_modified": 5, "missing_body": 1})
    assert h.pages == 1 and h.healthy


def test_examples_are_capped_newest_first(redis_client: redis.Redis) -> None:
    m = monitor(redis_client)
    m.record_examples([("s", "body", f"http://x/{i}") for i in range(EXAMPLES_KEPT + 3)])
    CrawlStats(redis_client, "t:").add("s", {"pages": 8, "missing_body": 8})
    h = m.check("s")
    assert h.examples["body"][0] == f"http://x/{EXAMPLES_KEPT + 2}"
    assert len(h.examples["body"]) == EXAMPLES_KEPT
    assert redis_client.ttl("t:health:examples:s:body") > 0


def test_check_reads_only_the_last_24_hours(redis_client: redis.Redis) -> None:
    stats = CrawlStats(redis_client, "t:")
    now = 1_800_000_000.0
    stats.add("s", {"pages": 10, "missing_body": 10}, now=now - 30 * 3600)  # a bad day, long gone
    stats.add("s", {"pages": 10}, now=now - 3600)
    assert monitor(redis_client).check("s", now=now).healthy
    stats.add("s", {"pages": 10, "missing_published": 10}, now=now)
    assert monitor(redis_client).check("s", now=now).failing == ["published"]


def test_warning_once_per_hour_per_site(redis_client: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    m = monitor(redis_client)
    CrawlStats(redis_client, "t:").add("s", {"pages": 6, "missing_body": 6, "fallbacks": 6})
    m.record_examples([("s", "body", "http://x/broken")])
    with caplog.at_level(logging.WARNING, logger="crawler.health"):
        m.warn_if_unhealthy("s")
        m.warn_if_unhealthy("s")
        other = HealthMonitor(redis_client, "t:", 0.2, 5)  # another worker: same hour, no second warning
        other.warn_if_unhealthy("s")
    warnings = [r for r in caplog.records if r.name == "crawler.health"]
    assert len(warnings) == 1
    assert warnings[0].field == "body"  # type: ignore[attr-defined]
    assert warnings[0].example_url == "http://x/broken"  # type: ignore[attr-defined]
    assert "body rule missed" in warnings[0].getMessage()
    assert 0 < redis_client.ttl("t:health:warned:s") <= 3600
    redis_client.delete("t:health:warned:s")  # the hour is over
    with caplog.at_level(logging.WARNING, logger="crawler.health"):
        m.warn_if_unhealthy("s")
    assert len([r for r in caplog.records if r.name == "crawler.health"]) == 2


def test_healthy_site_never_warns(redis_client: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    CrawlStats(redis_client, "t:").add("s", {"pages": 50, "missing_body": 2})
    with caplog.at_level(logging.WARNING, logger="crawler.health"):
        assert monitor(redis_client).warn_if_unhealthy("s").healthy
    assert not caplog.records and not redis_client.exists("t:health:warned:s")
