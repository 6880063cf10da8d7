"""In-memory DedupIndex: `newsdedup dedup` without --redis, and the reference for the tests.

Follows the rules in dedup.index.DedupIndex exactly. Bands come from dedup.lsh_params
(datasketch's optimiser) for `threshold`, weighting misses 0.9 and false candidates 0.1:
every candidate is verified on its 8-bit b-bit signature (dedup.signature_bits) at
`threshold` anyway, so a false candidate costs one comparison while a miss loses a
duplicate. With equal weights (25x5 at 0.5, 21x6 at 0.55) the band step alone lost 1-12 %
of 10 %-edited copies on baomoi; with 0.1/0.9 (32x4 at 0.5, 28x4 at 0.55) none
(docs/dedup-quality.md). Both backends must use the same bands (`index_bands`).

Default threshold 0.55 with k=2 shingles (dedup.minhash): recall >= 0.99 on NFD, tone-style,
header/footer, 70 % truncation and 10 % scattered edits of 300 baomoi articles, 0 false
positives on 2,000 different-article pairs, and fewer same-story rewrites merged than 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup import signature_bits
from dedup.index import Decision, DedupIndex, IndexEntry, Verdict
from dedup.lsh_params import DEFAULT_FN_WEIGHT, DEFAULT_THRESHOLD, index_bands

__all__ = ["DEFAULT_FN_WEIGHT", "DEFAULT_THRESHOLD", "MemoryIndex", "index_bands"]


@dataclass(slots=True)
class _Doc:
    cluster: str
    content_hash: str
    version: int


@dataclass(frozen=True, slots=True)
class _Indexed:
    order: int  # insertion order, for ties
    doc_id: str
    cluster: str
    bbits: bytes


class MemoryIndex(DedupIndex):
    """Banded LSH over MinHash signatures, verification on b-bit signatures, all in dicts."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        num_perm: int = 128,
        bits: int = signature_bits.DEFAULT_BITS,
        bands: tuple[int, int] | None = None,
    ) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.bits = bits
        self.bands, self.rows = bands if bands is not None else index_bands(threshold, num_perm)
        if self.bands * self.rows > num_perm:
            raise ValueError(f"{self.bands} bands x {self.rows} rows exceed {num_perm} permutations")
        self._tables: list[dict[bytes, list[_Indexed]]] = [{} for _ in range(self.bands)]
        self._docs: dict[str, _Doc] = {}
        self._by_hash: dict[str, str] = {}  # content hash of an indexed document -> its cluster
        self._members: dict[str, list[dict[str, str]]] = {}
        self._indexed_ids: set[str] = set()
        self._order = 0

    def _band_keys(self, signature: np.ndarray) -> list[bytes]:
        sig = np.asarray(signature, dtype=np.uint64)
        if sig.shape != (self.num_perm,):
            raise ValueError(f"signature has shape {sig.shape}, expected ({self.num_perm},)")
        r = self.rows
        return [sig[i * r : (i + 1) * r].tobytes() for i in range(self.bands)]

    def _index(self, entry: IndexEntry, cluster: str, keys: list[bytes]) -> None:
        item = _Indexed(self._order, entry.doc_id, cluster, signature_bits.compress(entry.signature, self.bits))
        self._order += 1
        for table, key in zip(self._tables, keys, strict=True):
            table.setdefault(key, []).append(item)
        self._indexed_ids.add(entry.doc_id)
        self._by_hash.setdefault(entry.content_hash, cluster)

    def _best_candidate(self, entry: IndexEntry, keys: list[bytes]) -> tuple[_Indexed, float] | None:
        seen: set[int] = set()
        best: tuple[_Indexed, float] | None = None
        mine = signature_bits.compress(entry.signature, self.bits)
        for table, key in zip(self._tables, keys, strict=True):
            for item in table.get(key, ()):
                if item.order in seen:
                    continue
                seen.add(item.order)
                sim = signature_bits.estimate_jaccard(mine, item.bbits, self.bits)
                if sim < self.threshold:
                    continue
                if best is None or sim > best[1] or (sim == best[1] and item.order < best[0].order):
                    best = (item, sim)
        return best

    def _decide(self, entry: IndexEntry) -> Decision:
        known = self._docs.get(entry.doc_id)
        if known is not None:
            if known.content_hash == entry.content_hash:
                return Decision(entry.doc_id, Verdict.UNCHANGED, known.cluster, version=known.version)
            known.version += 1
            known.content_hash = entry.content_hash
            self._index(entry, known.cluster, self._band_keys(entry.signature))
            return Decision(entry.doc_id, Verdict.NEW_VERSION, known.cluster, version=known.version)
        member = {"id": entry.doc_id, "url": entry.url, "site": entry.site}
        cluster = self._by_hash.get(entry.content_hash)
        if cluster is not None:
            self._docs[entry.doc_id] = _Doc(cluster, entry.content_hash, 1)
            self._members[cluster].append(member)
            return Decision(entry.doc_id, Verdict.DUPLICATE, cluster, duplicate_of=cluster, similarity=1.0)
        keys = self._band_keys(entry.signature)
        best = self._best_candidate(entry, keys)
        if best is not None:
            item, sim = best
            self._docs[entry.doc_id] = _Doc(item.cluster, entry.content_hash, 1)
            self._members[item.cluster].append(member)
            return Decision(entry.doc_id, Verdict.DUPLICATE, item.cluster, duplicate_of=item.cluster, similarity=sim)
        self._docs[entry.doc_id] = _Doc(entry.doc_id, entry.content_hash, 1)
        self._members[entry.doc_id] = [member]
        self._index(entry, entry.doc_id, keys)
        return Decision(entry.doc_id, Verdict.NEW, entry.doc_id)

    def check_and_insert(self, entries: Sequence[IndexEntry]) -> list[Decision]:
        return [self._decide(entry) for entry in entries]

    def cluster_members(self, cluster: str) -> list[dict[str, str]]:
        return [dict(m) for m in self._members.get(cluster, [])]

    def __len__(self) -> int:
        return len(self._indexed_ids)
