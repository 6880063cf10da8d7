"""The DedupIndex contract, run against every backend, and identical verdicts across backends."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest
import redis
from datasketch import MinHash

from dedup.index import DedupIndex, IndexEntry, Verdict
from dedup.redis_index import RedisIndex

try:
    from dedup.memory_index import MemoryIndex
except ImportError:  # pragma: no cover - written concurrently by another engineer
    MemoryIndex = None  # type: ignore[assignment,misc]

VOCAB = [f"t{i}" for i in range(30000)]
Factory = Callable[..., DedupIndex]


def _sig(tokens: list[str]) -> np.ndarray:
    m = MinHash(num_perm=128, seed=1)
    m.update_batch([" ".join(tokens[i : i + 3]).encode() for i in range(len(tokens) - 2)])
    return m.hashvalues.copy()


def _entry(doc_id: str, tokens: list[str]) -> IndexEntry:
    return IndexEntry(doc_id, _sig(tokens), str(hash(tuple(tokens))), url=f"https://x.vn/{doc_id}", site="x.vn")


def _edit(tokens: list[str], rng: random.Random, count: int) -> list[str]:
    out = list(tokens)
    for i in rng.sample(range(len(out)), count):
        out[i] = rng.choice(VOCAB)
    return out


@pytest.fixture(params=["redis", "memory"])
def make_index(request: pytest.FixtureRequest) -> Factory:
    if request.param == "memory":
        if MemoryIndex is None:
            pytest.skip("dedup.memory_index not available")
        return lambda threshold=0.5, bits=8: MemoryIndex(threshold=threshold, bits=bits)
    client = request.getfixturevalue("redis_client")
    return lambda threshold=0.5, bits=8: RedisIndex(client, threshold=threshold, bits=bits)


def test_rules(make_index: Factory) -> None:
    rng = random.Random(1)
    idx = make_index()
    a, b = [rng.choice(VOCAB) for _ in range(100)], [rng.choice(VOCAB) for _ in range(100)]
    got = idx.check_and_insert([
        _entry("a", a), _entry("a2", _edit(a, rng, 3)), _entry("b", b), _entry("a3", a),
        _entry("a", a), _entry("b", _edit(b, rng, 50)),
    ])
    assert [(d.verdict, d.cluster, d.version) for d in got] == [
        (Verdict.NEW, "a", 1), (Verdict.DUPLICATE, "a", 1), (Verdict.NEW, "b", 1),
        (Verdict.DUPLICATE, "a", 1), (Verdict.UNCHANGED, "a", 1), (Verdict.NEW_VERSION, "b", 2),
    ]
    assert got[3].similarity == 1.0 and got[1].similarity is not None and 0.5 <= got[1].similarity < 1
    assert [m["id"] for m in idx.cluster_members("a")] == ["a", "a2", "a3"]
    assert idx.cluster_members("a")[1] == {"id": "a2", "url": "https://x.vn/a2", "site": "x.vn"}
    assert [m["id"] for m in idx.cluster_members("b")] == ["b"]
    assert len(idx) == 2


def _sequence(seed: int, n: int) -> list[IndexEntry]:
    """A stream with exact copies, light and heavy edits, re-crawls and new versions."""
    rng = random.Random(seed)
    texts: list[list[str]] = []
    out = []
    for i in range(n):
        r = rng.random()
        if not texts or r < 0.3:
            tokens = [rng.choice(VOCAB) for _ in range(rng.randrange(30, 150))]
        elif r < 0.45:
            tokens = rng.choice(texts)
        else:
            base = rng.choice(texts)
            tokens = _edit(base, rng, max(1, int(len(base) * rng.choice([0.02, 0.05, 0.1, 0.2, 0.3]))))
        texts.append(tokens)
        doc_id = f"d{i}" if rng.random() < 0.8 else f"d{rng.randrange(max(1, i))}"
        out.append(_entry(doc_id, tokens))
        if rng.random() < 0.07:
            out.append(rng.choice(out))  # re-crawl, same text
    return out


@pytest.mark.parametrize(("threshold", "bits"), [(0.5, 8), (0.5, 4), (0.8, 8)])
def test_backends_give_identical_decisions(redis_client: redis.Redis, threshold: float, bits: int) -> None:
    if MemoryIndex is None:
        pytest.skip("dedup.memory_index not available")
    seq = _sequence(int(threshold * 10) + bits, 600)
    mem = MemoryIndex(threshold=threshold, bits=bits)
    red = RedisIndex(redis_client, threshold=threshold, bits=bits, batch_size=37)
    want, got = mem.check_and_insert(seq), red.check_and_insert(seq)
    assert got == want
    assert {d.verdict for d in want} == set(Verdict)  # the sequence exercises every rule
    assert len(red) == len(mem)
    for cluster in {d.cluster for d in want}:
        assert red.cluster_members(cluster) == mem.cluster_members(cluster), cluster
