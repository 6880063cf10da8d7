"""Verdict rules of dedup.index.DedupIndex on crafted signatures (memory backend; the Redis
backend runs the same cases when it is importable, so both must agree)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from dedup.index import DedupIndex, IndexEntry, Verdict
from dedup.lsh_params import lsh_params
from dedup.memory_index import MemoryIndex, index_bands

NUM_PERM = 128
RNG = np.random.default_rng(11)


def random_sig() -> np.ndarray:
    return RNG.integers(0, 2**32 - 1, NUM_PERM, dtype=np.uint64)


def changed(sig: np.ndarray, positions: range | list[int]) -> np.ndarray:
    """Copy of sig with fresh random values (different low byte) at `positions`."""
    out = sig.copy()
    for p in positions:
        out[p] = (int(sig[p]) ^ (1 + int(RNG.integers(0, 255))) ^ (int(RNG.integers(1, 2**24)) << 8)) & (2**32 - 1)
    return out


def entry(doc_id: str, sig: np.ndarray, chash: str | None = None, url: str = "", site: str = "") -> IndexEntry:
    return IndexEntry(doc_id, sig, chash or f"hash-{doc_id}", url=url, site=site)


@pytest.fixture(params=["memory", "redis"])
def make_index(request: pytest.FixtureRequest) -> Callable[[float], DedupIndex]:
    if request.param == "memory":
        return lambda threshold=0.5: MemoryIndex(threshold=threshold, num_perm=NUM_PERM)
    redis_index = pytest.importorskip("dedup.redis_index")
    client = request.getfixturevalue("redis_client")
    counter = itertools.count()
    return lambda threshold=0.5: redis_index.RedisIndex(
        client, prefix=f"t{next(counter)}:", threshold=threshold, num_perm=NUM_PERM
    )


def test_bands_come_from_lsh_params() -> None:
    index = MemoryIndex(threshold=0.5)
    assert (index.bands, index.rows) == lsh_params(0.5, 128, 0.1, 0.9) == index_bands(0.5, 128) == (32, 4)
    assert (MemoryIndex().bands, MemoryIndex().rows) == (28, 4)  # default threshold 0.55
    assert MemoryIndex(bands=(32, 4)).bands == 32
    with pytest.raises(ValueError):
        MemoryIndex(bands=(40, 4))


def test_new_exact_near_and_unrelated(make_index: Callable[..., DedupIndex]) -> None:
    index = make_index()
    a = random_sig()
    near = changed(a, range(0, 40))  # 88 of 128 equal -> ~0.69
    d = index.check_and_insert([
        entry("a", a, url="https://x.vn/a", site="x"),
        entry("exact", random_sig(), chash="hash-a", url="https://y.vn/e", site="y"),
        entry("near", near, url="https://z.vn/n", site="z"),
        entry("other", random_sig()),
    ])
    assert [x.verdict for x in d] == [Verdict.NEW, Verdict.DUPLICATE, Verdict.DUPLICATE, Verdict.NEW]
    assert d[0].cluster == "a" and d[0].duplicate_of is None and d[0].version == 1
    assert (d[1].duplicate_of, d[1].cluster, d[1].similarity) == ("a", "a", 1.0)
    assert d[2].duplicate_of == "a" and d[2].similarity is not None and 0.6 < d[2].similarity < 0.8
    assert d[3].cluster == "other"
    assert len(index) == 2
    members = index.cluster_members("a")
    assert members[0] == {"id": "a", "url": "https://x.vn/a", "site": "x"}
    assert [m["id"] for m in members] == ["a", "exact", "near"]


def test_below_threshold_is_new(make_index: Callable[..., DedupIndex]) -> None:
    index = make_index()
    a = random_sig()
    far = changed(a, range(0, 80))  # 48 of 128 equal -> ~0.37, shares bands
    d = index.check_and_insert([entry("a", a), entry("far", far)])
    assert [x.verdict for x in d] == [Verdict.NEW, Verdict.NEW]


def test_unchanged_and_new_version(make_index: Callable[..., DedupIndex]) -> None:
    index = make_index()
    a = random_sig()
    d1 = index.check_and_insert([entry("a", a, chash="h1")])[0]
    d2 = index.check_and_insert([entry("a", a, chash="h1")])[0]
    assert d1.verdict is Verdict.NEW and d2.verdict is Verdict.UNCHANGED and d2.version == 1
    v2 = changed(a, range(0, 100))
    d3 = index.check_and_insert([entry("a", v2, chash="h2")])[0]
    assert (d3.verdict, d3.version, d3.cluster) == (Verdict.NEW_VERSION, 2, "a")
    d4 = index.check_and_insert([entry("a", v2, chash="h2")])[0]
    assert (d4.verdict, d4.version) == (Verdict.UNCHANGED, 2)
    # the new version's signature is indexed as well: a copy of it is a duplicate of cluster a
    d5 = index.check_and_insert([entry("b", changed(v2, [0, 1, 2]))])[0]
    assert (d5.verdict, d5.duplicate_of) == (Verdict.DUPLICATE, "a")
    if isinstance(index, MemoryIndex):  # documents, not signatures (see the report on RedisIndex)
        assert len(index) == 1


def test_duplicates_are_not_indexed_so_clusters_do_not_drift(make_index: Callable[..., DedupIndex]) -> None:
    index = make_index()
    a = random_sig()
    b = changed(a, range(0, 40))  # dup of a
    c = changed(b, range(40, 80))  # close to b (88 equal) but far from a (48 equal)
    d = index.check_and_insert([entry("a", a), entry("b", b), entry("c", c)])
    assert [x.verdict for x in d] == [Verdict.NEW, Verdict.DUPLICATE, Verdict.NEW]
    # rule 3 looks at indexed documents only: a copy of duplicate b matches a through the bands
    e = index.check_and_insert([entry("e", b, chash="hash-b")])[0]
    assert (e.verdict, e.duplicate_of) == (Verdict.DUPLICATE, "a")
    assert e.similarity is not None and e.similarity < 1.0


def test_best_similarity_wins_and_ties_go_to_earliest(make_index: Callable[..., DedupIndex]) -> None:
    index = make_index()
    q = random_sig()
    first = changed(q, range(80, 128))  # agrees with q on 0..79
    second = changed(q, range(0, 48))  # agrees with q on 48..127; first vs second: 32 equal -> NEW
    d = index.check_and_insert([entry("first", first), entry("second", second), entry("q", q)])
    assert [x.verdict for x in d] == [Verdict.NEW, Verdict.NEW, Verdict.DUPLICATE]
    assert d[2].duplicate_of == "first"
    closer = changed(q, range(0, 20))  # agrees with q on 20..127: better than both
    index2 = make_index()
    d2 = index2.check_and_insert([entry("first", first), entry("closer", closer), entry("q", q)])
    assert d2[2].duplicate_of == "closer"


def test_each_decision_sees_earlier_ones_in_the_same_call(make_index: Callable[..., DedupIndex]) -> None:
    index = make_index()
    a = random_sig()
    d = index.check_and_insert([entry("a", a), entry("a", a, chash="hash-a"), entry("a2", a, chash="hash-a")])
    assert [x.verdict for x in d] == [Verdict.NEW, Verdict.UNCHANGED, Verdict.DUPLICATE]


def test_threshold_is_respected(make_index: Callable[..., DedupIndex]) -> None:
    a = random_sig()
    b = changed(a, range(0, 50))  # 78 equal -> ~0.61
    assert make_index(0.5).check_and_insert([entry("a", a), entry("b", b)])[1].verdict is Verdict.DUPLICATE
    assert make_index(0.7).check_and_insert([entry("a", a), entry("b", b)])[1].verdict is Verdict.NEW


def test_rejects_wrong_signature_length() -> None:
    with pytest.raises(ValueError):
        MemoryIndex().check_and_insert([entry("a", np.zeros(64, np.uint64))])
