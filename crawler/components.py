"""The crawl's collaborators (Redis stores, dedup stage, queue), built once per crawler.

Scrapy deep-copies settings, so only our `Settings` travels in them
(`NEWSDEDUP_SETTINGS`); spider and pipelines get the shared objects from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from crawler.crawl_stats import CrawlStats
from crawler.seen_store import SeenStore
from dedup.block_learning import BlockLearner
from dedup.minhash import MinHasher
from dedup.redis_index import RedisIndex
from dedup.stage import DedupStage
from docqueue.redis_conn import connect
from docqueue.settings import Settings
from docqueue.stream import DocumentQueue


@dataclass
class Components:
    settings: Settings
    client: redis.Redis
    seen: SeenStore
    queue: DocumentQueue
    stage: DedupStage
    stats: CrawlStats
    blocks: BlockLearner | None = None  # boilerplate layer 3: blocks learned per site

    @classmethod
    def build(cls, settings: Settings) -> Components:
        client = connect(settings)
        index = RedisIndex(client, prefix=settings.key_prefix, threshold=settings.dedup_threshold,
                           num_perm=settings.dedup_num_perm, window_seconds=settings.dedup_window_days * 86400)
        return cls(
            settings=settings,
            client=client,
            seen=SeenStore(client, settings.key_prefix, settings.seen_ttl_days * 86400),
            queue=DocumentQueue.from_settings(client, settings),
            stage=DedupStage(index, MinHasher(num_perm=settings.dedup_num_perm)),
            stats=CrawlStats(client, settings.key_prefix),
            # learned boilerplate blocks: K = boilerplate_min_pages, same window as the dedup index
            blocks=BlockLearner(client, settings.key_prefix, min_pages=settings.boilerplate_min_pages,
                                window_seconds=settings.dedup_window_days * 86400),
        )


def components(crawler: Any) -> Components:
    """The crawler's shared components (created on first use)."""
    found = getattr(crawler, "_newsdedup_components", None)
    if found is None:
        settings = crawler.settings.get("NEWSDEDUP_SETTINGS")
        if not isinstance(settings, Settings):
            raise RuntimeError("NEWSDEDUP_SETTINGS (a docqueue.settings.Settings) is not set")
        found = Components.build(settings)
        crawler._newsdedup_components = found
    return found
