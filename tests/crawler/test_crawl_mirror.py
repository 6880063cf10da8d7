"""End-to-end crawls of the local mirror through `newsdedup crawl` (a real Scrapy crawl,
a real Redis): discovery, extraction, dedup, publishing, seen store, politeness, failures."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import redis

from crawler.mirror import MirrorServer
from docqueue.document import validate_document
from tests.cli_helpers import cli_env, run_cli


def crawl(mirror: MirrorServer, redis_url: str, *args: str) -> dict:
    env = cli_env(redis_url=redis_url, NEWSDEDUP_SITE_ORIGINS=json.dumps(mirror.origins),
                  NEWSDEDUP_DOWNLOAD_TIMEOUT="3")
    res = run_cli("crawl", "--json", *[a for s in mirror.origins for a in ("--site", s)], *args, env=env,
                  timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.splitlines()[-1])


def published(client: redis.Redis) -> list[dict]:
    return [json.loads(fields[b"doc"]) for _id, fields in client.xrange("newsdedup:docs")]


def test_crawl_publishes_every_article_once_and_second_run_fetches_no_article(
        mirror: MirrorServer, redis_url: str, redis_client: redis.Redis) -> None:
    mirror.reset_hits()
    first = crawl(mirror, redis_url)
    expected = {(a.site, a.article_id) for a in mirror.expected_articles()}
    assert first["articles"] == len(expected)
    docs = published(redis_client)
    ids = [d["id"] for d in docs]
    assert len(ids) == len(set(ids)), "each (id, version) lands once"
    assert first["documents_queued"] == len(docs)
    assert first["duplicates_dropped"] > 0, "syndicated copies across mirror sites are dropped"
    assert first["documents_queued"] + first["duplicates_dropped"] == first["articles"]
    for doc in docs:
        validate_document(doc)
        assert doc["published"] and doc["published"].endswith("+07:00")
        assert doc["title"] and doc["text"]
        assert "TIN CÙNG CHỦ ĐỀ" not in doc["text"].upper()
    assert {tuple(d["id"].split(":", 1)) for d in docs} <= expected
    # every article page was fetched exactly once
    article_hits = Counter({u: n for u, n in mirror.hits.items() if mirror.classify(u) == "article"})
    assert len(article_hits) == len(expected) and set(article_hits.values()) == {1}
    assert not any(mirror.classify(u) == "private" for u in mirror.hits), "robots.txt Disallow obeyed"

    mirror.reset_hits()
    second = crawl(mirror, redis_url)
    kinds = Counter(mirror.classify(u) for u in mirror.hits)
    assert kinds["article"] == 0, f"second run re-fetched articles: {kinds}"
    assert kinds["feed"] + kinds["listing"] + kinds["sitemap"] > 0
    assert second["documents_queued"] == 0
    assert len(published(redis_client)) == len(docs)


def test_limit_caps_articles_per_site(mirror: MirrorServer, redis_url: str) -> None:
    summary = crawl(mirror, redis_url, "--limit", "3")
    for site, counts in summary["sites"].items():
        assert counts["pages"] <= 3, site
    assert summary["articles"] == 3 * len(mirror.origins)


def test_broken_responses_are_counted_and_the_crawl_goes_on(
        make_mirror: Callable[..., MirrorServer], redis_url: str) -> None:
    server = make_mirror(link_failures=True, slow_seconds=6.0, bomb_bytes=64 * 2**20)
    summary = crawl(server, redis_url)
    assert summary["articles"] >= len(server.expected_articles())  # every real article still made it
    out = summary["outcomes"]
    assert out.get("http_404") == 1 and out.get("http_500") == 1
    assert out.get("DownloadTimeoutError") == 1  # the slow page, after its retries
    assert out.get("exception:DownloadCancelledError", 0) >= 2  # 50 MB with and without Content-Length
    # the gzip bomb (decompressed size over the limit) on top of the robots.txt refusals
    refused = sum(c["refused"] for c in summary["sites"].values())
    assert refused >= out.get("robotstxt_forbidden", 0) + 1
    assert out.get("offsite_filtered", 0) >= 1  # the redirect to 169.254.169.254
    assert out.get("robotstxt_forbidden", 0) >= 1  # /private/ is disallowed
    assert out.get("dupefilter_filtered", 0) >= 1  # the redirect loop is cut
    no_article = sum(c["no_article"] for c in summary["sites"].values())
    assert no_article >= 2  # the empty 200 and the page without an article
    fetched = {u for u in server.hits}
    assert set(server.failure_urls().values()) - {server.failure_urls()["redirect-private"]} <= fetched
