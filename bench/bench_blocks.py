"""Learned-boilerplate cost per page: pages/s of dedup.block_learning alone on real baomoi pages.

Prints, in one run: pages/s and µs/page for the memory store and the Redis store (a fresh
redis-server on a free port, never the shared 6379; batches of 64 pages, as the crawl
pipeline flushes), Redis bytes/page (MEMORY USAGE of the per-site keys), and with --quality the
figures behind the default parameters: share of one-word variants caught and share of
paragraphs removed without an exact repeat on 3 pages of their site.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import random
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import RedisServer  # noqa: E402  (the tests' throwaway redis-server helper)

from dedup.block_learning import BlockLearner, Page  # noqa: E402
from dedup.normalize import normalize  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "baomoi-2017.jsonl.gz"
SITES = 4


def pages(path: Path) -> list[Page]:
    """baomoi articles spread round-robin over SITES sites, as the mirror does."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            item = json.loads(line)
            paras = [p.strip() for p in str(item.get("text", "")).split("\n") if p.strip()]
            if paras:
                out.append(Page(f"site{n % SITES}", str(item["id"]), paras, str(item.get("lead") or "")))
    return out


def run(learner: BlockLearner, corpus: list[Page], batch: int = 64) -> tuple[float, int]:
    learner.filter_batch(corpus[:8])  # compile / load the script before timing
    start = time.perf_counter()
    removed = 0
    for i in range(0, len(corpus), batch):
        removed += sum(r for _, r in learner.filter_batch(corpus[i : i + batch]))
    return time.perf_counter() - start, removed


def quality(corpus: list[Page], trials: int = 300, seed: int = 3) -> tuple[float, float]:
    """(share of planted one-word variants removed on their 4th page, share of paragraphs
    removed without an exact repeat on 3 pages of their site)."""
    rng = random.Random(seed)
    learner = BlockLearner()
    seen: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    near = total = 0
    for page in corpus:
        for p in page.paragraphs:
            seen[(page.site, normalize(p))].add(page.doc_id)
        kept = set(learner.filter(*page)[0])
        total += len(page.paragraphs)
        near += sum(1 for p in page.paragraphs if p not in kept and len(seen[(page.site, normalize(p))]) < 3)
    words = [w for page in corpus[:300] for p in page.paragraphs for w in p.split() if w.isalpha()]
    blocks = [p for page in corpus for p in page.paragraphs if 8 <= len(p.split()) <= 60]
    caught = 0
    for t in range(trials):
        block = rng.choice(blocks)
        for j, filler in enumerate(rng.sample(corpus, 4)):
            ws = block.split()
            ws[rng.randrange(len(ws))] = rng.choice(words)
            variant = "  ".join(ws) if rng.random() < 0.5 else " ".join(ws).upper()
            last, _ = learner.filter(f"v{t}", f"p{j}", [*filler.paragraphs, variant])
        caught += variant not in last
    return caught / trials, near / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--quality", action="store_true", help="also measure variant recall / false removals")
    args = parser.parse_args()
    if not args.corpus.is_file():
        print(f"SKIP: corpus {args.corpus} not found", file=sys.stderr)
        return 0
    corpus = pages(args.corpus)
    n_paras = sum(len(p.paragraphs) for p in corpus)
    print(f"{len(corpus)} pages, {n_paras} paragraphs, {SITES} sites")
    secs, removed = run(BlockLearner(), corpus)
    print(f"memory store: {len(corpus) / secs:,.0f} pages/s ({secs / len(corpus) * 1e6:,.0f} µs/page), "
          f"{removed} blocks removed")
    server = RedisServer()
    try:
        client = redis.Redis.from_url(server.url)
        secs, removed = run(BlockLearner(client), corpus)
        used = sum(int(client.memory_usage(k) or 0) for k in client.scan_iter("newsdedup:blocks:*"))
        print(f"redis store:  {len(corpus) / secs:,.0f} pages/s ({secs / len(corpus) * 1e6:,.0f} µs/page), "
              f"{removed} blocks removed, {used / len(corpus):,.0f} B/page in Redis")
    finally:
        server.close()
    if args.quality:
        recall, false_share = quality(corpus)
        print(f"quality: {recall:.0%} of one-word variants caught; {false_share:.2%} of paragraphs removed "
              "without an exact repeat on 3 pages of their site")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
