"""RedisIndex.check_and_insert vs datasketch MinHashLSH on Redis storage, same signatures, one run.

Each side gets a fresh redis-server on a free port (never the shared 6379); bytes/doc is the
INFO used_memory delta, split by part with MEMORY USAGE.
Usage: .venv/bin/python bench/bench_index.py [--docs 50000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import redis
from datasketch import LeanMinHash, MinHashLSH

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import RedisServer  # noqa: E402  (the tests' throwaway redis-server helper)

from dedup.index import IndexEntry  # noqa: E402
from dedup.lsh_params import DEFAULT_THRESHOLD, index_bands  # noqa: E402
from dedup.minhash import MinHasher  # noqa: E402
from dedup.redis_index import RedisIndex  # noqa: E402


def corpus(n: int, seed: int = 7) -> list[IndexEntry]:
    """Random-word articles (~300 tokens); 20 % are near-copies (10 % of words edited)."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(50000)]
    hasher = MinHasher()
    hasher.warm_up()
    texts: list[list[str]] = []
    out = []
    for i in range(n):
        if texts and rng.random() < 0.2:
            tokens = list(rng.choice(texts))
            for j in rng.sample(range(len(tokens)), len(tokens) // 10):
                tokens[j] = rng.choice(vocab)
        else:
            tokens = [rng.choice(vocab) for _ in range(rng.randrange(200, 400))]
        texts.append(tokens)
        site = f"site{i % 40}.vn"
        out.append(IndexEntry(
            f"{site}:{4_000_000 + i}", hasher.signature(" ".join(tokens)), f"{rng.getrandbits(128):032x}",
            url=f"https://{site}/thoi-su/bai-viet-ve-chu-de-so-{i}-{4_000_000 + i}.html", site=site,
        ))
    return out


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def breakdown(client: redis.Redis, index: RedisIndex, signatures: int) -> dict[str, float]:
    """Bytes by part (MEMORY USAGE of each key; the metadata chunks are split between the b-bit
    signatures they hold and the id/site/url/cluster text by byte counts). Cluster members are
    records in the bucket hash (format 3), so they count under buckets."""
    parts = {"buckets": 0.0, "records": 0.0, "signatures": 0.0, "metadata": 0.0, "clusters": 0.0, "other": 0.0}
    meta_bytes = meta_len = 0
    for key in client.scan_iter(match=index.base + "*", count=1000):
        kind = key.decode()[len(index.base) :].split(":")[0]
        size = client.memory_usage(key, samples=0) or 0
        if kind == "m":
            meta_bytes += size
            meta_len += int(client.strlen(key))
        else:
            parts[{"b": "buckets", "s": "records", "cluster": "clusters"}.get(kind, "other")] += size
    meta_len = int(client.get(index.base + "mt") or meta_len)  # the stream's bytes, without the last chunk's spare
    share = signatures * index.sig_len / meta_len if meta_len else 0.0
    parts["signatures"], parts["metadata"] = meta_bytes * share, meta_bytes * (1 - share)
    return parts


def bench_ours(entries: list[IndexEntry], bits: int) -> tuple[float, float, int, dict[str, float]]:
    server = RedisServer()
    try:
        client = redis.Redis(port=server.port)
        before = used(client)
        index = RedisIndex(client, bits=bits, capacity=len(entries))
        start = time.perf_counter()
        decisions = index.check_and_insert(entries)
        elapsed = time.perf_counter() - start
        dups = sum(d.verdict.value == "duplicate" for d in decisions)
        indexed = sum(d.verdict.value in ("new", "new_version") for d in decisions)
        parts = {k: v / len(entries) for k, v in breakdown(client, index, indexed).items()}
        return len(entries) / elapsed, (used(client) - before) / len(entries), dups, parts
    finally:
        server.close()


def bench_datasketch(entries: list[IndexEntry], queries: int) -> tuple[float, float, float]:
    server = RedisServer()
    try:
        client = redis.Redis(port=server.port)
        before = used(client)
        # the same bands as the project's index (dedup.lsh_params.index_bands)
        lsh = MinHashLSH(threshold=DEFAULT_THRESHOLD, num_perm=128, params=index_bands(DEFAULT_THRESHOLD, 128), storage_config={
            "type": "redis", "basename": b"bench", "redis": {"host": "127.0.0.1", "port": server.port},
        })
        lean = [LeanMinHash(seed=1, hashvalues=e.signature, scheme="legacy") for e in entries]
        start = time.perf_counter()
        with lsh.insertion_session(buffer_size=1000) as session:
            for e, m in zip(entries, lean, strict=True):
                session.insert(e.doc_id, m)
        inserts = len(entries) / (time.perf_counter() - start)
        per_doc = (used(client) - before) / len(entries)
        start = time.perf_counter()
        for m in lean[:queries]:
            lsh.query(m)
        return inserts, queries / (time.perf_counter() - start), per_doc
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=50000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    entries = corpus(args.docs)
    print(f"{len(entries)} signatures in {time.perf_counter() - t0:.1f} s; threshold {DEFAULT_THRESHOLD}, "
          f"bands x rows {index_bands(DEFAULT_THRESHOLD, 128)}", flush=True)
    ds_ins, ds_q, ds_bytes = bench_datasketch(entries, args.queries)
    print(f"datasketch MinHashLSH redis: {ds_ins:,.0f} inserts/s (insertion_session), "
          f"{ds_q:,.0f} queries/s, {ds_bytes:,.0f} B/doc", flush=True)
    for bits in (8, 4):
        rate, per_doc, dups, parts = bench_ours(entries, bits)
        print(f"RedisIndex bits={bits}: {rate:,.0f} check-and-insert docs/s ({dups} duplicates), "
              f"{per_doc:,.0f} B/doc  |  x{rate / ds_ins:.1f} datasketch inserts, "
              f"x{rate / ds_q:.1f} its queries, {per_doc / ds_bytes:.2f} of its bytes", flush=True)
        proper = parts["buckets"] + parts["records"] + parts["signatures"]
        print(f"  B/doc: index proper {proper:,.0f} (buckets {parts['buckets']:,.0f}, records "
              f"{parts['records']:,.0f}, signatures {parts['signatures']:,.0f}); metadata (id/site/url/cluster) "
              f"{parts['metadata']:,.0f}; cluster keys {parts['clusters']:,.0f}; other {parts['other']:,.0f}",
              flush=True)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
