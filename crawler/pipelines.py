"""Item pipeline: dedup stage → document queue → seen-URL store, in batches.

An article URL is marked seen only after its outcome is durable (published, or its
verdict recorded in the index), so a crash before that means it is fetched again —
never lost. Batching keeps Redis round trips per article well below one.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from typing import Any

from scrapy import signals

from crawler.components import components
from crawler.crawl_stats import CrawlStats
from crawler.seen_store import SeenStore
from dedup.block_learning import BlockLearner
from dedup.index import Verdict
from dedup.stage import PUBLISH, DedupStage
from docqueue.stream import DocumentQueue

log = logging.getLogger(__name__)

BATCH = 64
MAX_WAIT = 1.0  # seconds an item may wait in the buffer

# Scrapy signal sent after a flush with `items=[...]`: their outcome is now durable
# (published, or the verdict recorded, and the URL marked seen) — a task may be acked.
items_durable = object()


class DedupPublishPipeline:
    """Plugged in through ITEM_PIPELINES; its collaborators come from crawler settings."""

    def __init__(self, stage: DedupStage, queue: DocumentQueue, seen: SeenStore, stats: CrawlStats,
                 crawler: Any, blocks: BlockLearner | None = None) -> None:
        self.stage = stage
        self.blocks = blocks  # learned boilerplate (dedup.block_learning); None: layer off
        self.queue = queue
        self.seen = seen
        self.site_stats = stats
        self.crawler = crawler
        self.buffer: list[dict[str, Any]] = []
        self.oldest = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupPublishPipeline:
        c = components(crawler)
        pipeline = cls(c.stage, c.queue, c.seen, c.stats, crawler, c.blocks)
        crawler.signals.connect(pipeline.flush, signal=signals.spider_idle)
        return pipeline

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        if not self.buffer:
            self.oldest = time.monotonic()
        self.buffer.append(item)
        if len(self.buffer) >= BATCH or time.monotonic() - self.oldest > MAX_WAIT:
            self.flush()
        return item

    def close_spider(self, spider: Any = None) -> None:
        self.flush()

    def flush(self, *args: Any, **kwargs: Any) -> None:
        items, self.buffer = self.buffer, []
        if not items:
            return
        stats = self.crawler.stats
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        docs = [it["doc"] for it in items if it["doc"] is not None]
        if self.blocks is not None and docs:  # learned boilerplate out before dedup sees the text
            stats.inc_value("newsdedup/learned_blocks_removed", self.blocks.clean_documents(docs))
        decisions = self.stage.decide(docs)
        verdict_of = {id(doc): d.verdict for doc, d in zip(docs, decisions, strict=True)}
        to_publish = [doc for doc in docs if verdict_of[id(doc)] in PUBLISH]
        published = self.queue.publish(to_publish) if to_publish else []
        for item in items:
            site = item["site"]
            counts[site]["pages"] += 1
            if item.get("fallback"):
                counts[site]["fallbacks"] += 1
            for field in item.get("missing") or ():
                counts[site][f"missing_{field}"] += 1
            doc = item["doc"]
            if doc is None:
                counts[site][item["status"]] += 1
                continue
            verdict = verdict_of[id(doc)]
            counts[site]["articles"] += 1
            counts[site][verdict.value] += 1
            counts[site]["removed_blocks"] += doc.get("removed_blocks", 0)
            counts[site]["body_chars"] += len(doc.get("text", ""))
            stats.inc_value(f"newsdedup/verdict/{verdict.value}")
            stats.inc_value(f"newsdedup/{site}/{verdict.value}")
            stats.inc_value("newsdedup/removed_blocks", doc.get("removed_blocks", 0))
        stats.inc_value("newsdedup/queued", sum(1 for p in published if p))
        stats.inc_value("newsdedup/articles", len(docs))
        by_site: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
        for item in items:
            if item["status"] != "too_old":
                by_site[item["site"]].append((item["seen_key"], item.get("etag"), item.get("last_modified")))
        for site, entries in by_site.items():
            self.seen.mark(site, entries)
            self.site_stats.add(site, counts[site])
            if counts[site]["articles"]:
                self.site_stats.mark(site, "last_article")
        self.crawler.signals.send_catch_log(items_durable, items=items)
        log.debug("flushed %d items (%d published)", len(items), sum(1 for p in published if p))


def verdict_names() -> list[str]:
    return [v.value for v in Verdict]
