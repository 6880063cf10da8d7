"""The dedup stage of the crawl pipeline: cleaned documents in, verdicts and versions out.

The crawler hands over document dicts (DESIGN's fields, text already cleaned); this stage
compares lead + body after normalisation, asks the index (atomic check-and-insert), and
fills `content_hash`, `version` and `cluster`. Publishing is the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dedup.index import Decision, DedupIndex, IndexEntry, Verdict
from dedup.minhash import MinHasher
from dedup.normalize import content_hash, normalize

PUBLISH = (Verdict.NEW, Verdict.NEW_VERSION)


def _epoch(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


class DedupStage:
    """Decide a batch of documents against the index, in order."""

    def __init__(self, index: DedupIndex, hasher: MinHasher | None = None) -> None:
        self.index = index
        self.hasher = hasher or MinHasher()

    def entry(self, doc: dict[str, Any]) -> IndexEntry:
        text = "\n\n".join(p for p in (doc.get("sapo", ""), doc.get("text", "")) if p)
        norm = normalize(text) or normalize(doc.get("title", "")) or doc["id"]
        return IndexEntry(
            doc_id=doc["id"], signature=self.hasher.signature(norm), content_hash=content_hash(norm),
            published=_epoch(doc.get("published")), url=doc.get("url", ""), site=doc.get("site", ""),
        )

    def decide(self, docs: Sequence[dict[str, Any]]) -> list[Decision]:
        """Fill content_hash/version/cluster in each doc; return the index's decisions."""
        if not docs:
            return []
        entries = [self.entry(d) for d in docs]
        decisions = self.index.check_and_insert(entries)
        for doc, entry, decision in zip(docs, entries, decisions, strict=True):
            doc["content_hash"] = entry.content_hash
            doc["version"] = decision.version
            doc["cluster"] = decision.cluster
        return decisions
