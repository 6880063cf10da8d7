"""A real crawl of the mirror learns each site's repeated lines ("Theo <source>", photo credits)
and drops them from later documents, without losing article paragraphs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest
import redis

from crawler.mirror import MirrorServer
from dedup.normalize import normalize
from tests.cli_helpers import cli_env, run_cli
from tests.mirror_fixtures import BAOMOI


def test_crawl_drops_learned_site_boilerplate_and_keeps_article_text(
        mirror: MirrorServer, redis_url: str, redis_client: redis.Redis) -> None:
    if not BAOMOI.is_file():
        pytest.skip(f"{BAOMOI} absent: the demo mirror has too few pages per site to learn from")
    env = cli_env(redis_url=redis_url, NEWSDEDUP_SITE_ORIGINS=json.dumps(mirror.origins),
                  NEWSDEDUP_DOWNLOAD_TIMEOUT="3")
    res = run_cli("crawl", "--json", *[a for s in mirror.origins for a in ("--site", s)], env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    docs = [json.loads(f[b"doc"]) for _id, f in redis_client.xrange("newsdedup:docs")]
    assert docs
    assert any(k.startswith(b"newsdedup:blocks:{") for k in redis_client.scan_iter("newsdedup:blocks:*"))

    # What each site's pages carry: a source line repeated on many pages of one site.
    source_pages: dict[tuple[str, str], int] = Counter()
    for site, articles in mirror.content.articles.items():
        for article in articles:
            for para in set(article.version.paragraphs):
                source_pages[(site, normalize(para))] += 1

    repeated_kept = repeated_dropped = 0
    long_unique = long_lost = 0
    dropped_in: dict[str, list[int]] = defaultdict(list)
    for doc in docs:
        site, article_id = doc["id"].split(":", 1)
        article = mirror.article(site, article_id)
        kept = set(doc["text"].split("\n\n"))
        for para in article.version.paragraphs:
            key = (site, normalize(para))
            if para.startswith("Theo ") and len(para.split()) <= 5 and source_pages[key] >= 6:
                if para in kept:
                    repeated_kept += 1
                else:
                    repeated_dropped += 1
                    dropped_in[site].append(doc["removed_blocks"])
            elif len(para.split()) >= 20 and source_pages[key] == 1:
                long_unique += 1
                long_lost += para not in doc["text"]
    # "Theo <source>" lines on >= 6 pages of a site: learned after the first pages carrying them
    assert repeated_dropped > 2 * repeated_kept > 0, (repeated_dropped, repeated_kept)
    assert len(dropped_in) >= 3, "learned on most sites"
    assert all(n >= 1 for counts in dropped_in.values() for n in counts), "removed_blocks counts them"
    # article paragraphs found on one page only are (all but a rare near-copy) kept
    assert long_unique > 1000 and long_lost <= long_unique // 200, (long_lost, long_unique)
