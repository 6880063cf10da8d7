"""The dedup index interface shared by the in-memory and the Redis backends.

Both backends must give the same verdicts for the same sequence of entries, so the
rules live here in prose and in `IndexEntry`/`Decision`; tests run against both.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class Verdict(enum.StrEnum):
    """What happened to a document when it met the index."""

    NEW = "new"  # first of its cluster: publish it (version 1)
    DUPLICATE = "duplicate"  # near/exact copy of an indexed document: record in the cluster, do not publish
    NEW_VERSION = "new_version"  # same doc id, changed content: publish again with version + 1
    UNCHANGED = "unchanged"  # same doc id, same content hash: nothing to publish


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One document as the index sees it."""

    doc_id: str
    signature: np.ndarray  # uint64 MinHash hash values (datasketch layout), length num_perm
    content_hash: str  # hash of the normalised text: equal hashes are exact duplicates
    published: float | None = None  # epoch seconds, if known
    url: str = ""
    site: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """The index's answer for one entry."""

    doc_id: str
    verdict: Verdict
    cluster: str  # id of the cluster's canonical document (== doc_id for NEW)
    duplicate_of: str | None = None  # canonical doc id when verdict is DUPLICATE
    similarity: float | None = None  # estimated Jaccard with the matched document (1.0 for exact)
    version: int = 1  # version of doc_id after this decision


class DedupIndex(ABC):
    """Check-and-insert, atomically per entry, in input order.

    Rules (both backends):
    1. Known doc id, same content hash -> UNCHANGED (cluster and version unchanged).
    2. Known doc id, other content hash -> NEW_VERSION, version + 1, same cluster; its new
       signature is indexed as well.
    3. Unknown doc id whose content hash equals an indexed document's -> DUPLICATE, similarity 1.0.
    4. Unknown doc id whose LSH candidates include a document whose estimated Jaccard
       (b-bit signatures, see dedup.signature_bits) is >= threshold -> DUPLICATE of that
       candidate's cluster (best similarity wins; ties: earliest inserted).
    5. Otherwise NEW: the entry's bands, signature and content hash are indexed; cluster = doc_id.
    Duplicates are remembered (doc id -> cluster, content hash) but not indexed in the bands,
    so clusters do not drift through chains of edits.
    """

    threshold: float

    @abstractmethod
    def check_and_insert(self, entries: Sequence[IndexEntry]) -> list[Decision]:
        """Decide each entry in order; each decision sees all earlier ones."""

    @abstractmethod
    def cluster_members(self, cluster: str) -> list[dict[str, str]]:
        """Documents recorded in a cluster: [{"id", "url", "site"}], canonical first."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of documents indexed in the bands."""
