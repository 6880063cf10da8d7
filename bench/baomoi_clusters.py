"""Near-duplicate clusters on baomoi-2017 at the default settings, and precision on labels.

Runs every article through `dedup.batch.dedup_records` (MemoryIndex, default threshold and
k), prints the clusters (size >= 2) with their titles, and a reproducible sample of
(duplicate, canonical) pairs to label. Labels made by reading both texts live in
bench/baomoi_labels.json ({"<dup id> <canonical id>": "same" | "different"}; ids and
verdicts only — the corpus has no licence, so no text is copied into the repo); the script
reports precision over the labelled pairs it finds among today's duplicates.

    .venv/bin/python bench/baomoi_clusters.py [--threshold 0.5] [--sample 40] [--show ID ID]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dedup.batch import dedup_records, matching_text  # noqa: E402
from dedup.memory_index import DEFAULT_THRESHOLD, MemoryIndex  # noqa: E402
from dedup.minhash import MinHasher, shingles  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "baomoi-2017.jsonl.gz"
LABELS = Path(__file__).resolve().parent / "baomoi_labels.json"


def exact_jaccard(a: str, b: str, k: int) -> float:
    x, y = set(shingles(matching_text(a), k)), set(shingles(matching_text(b), k))
    return len(x & y) / max(1, len(x | y))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--sample", type=int, default=40, help="pairs to print for labelling")
    ap.add_argument("--show", nargs=2, metavar="ID", help="print two articles in full and exit")
    args = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"corpus not found: {CORPUS}")
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    by_id = {r["id"]: r for r in records}
    if args.show:
        for doc_id in args.show:
            print(f"===== {doc_id}: {by_id[doc_id]['title']}\n{by_id[doc_id]['text']}\n")
        return

    hasher = MinHasher()
    results = list(dedup_records(records, MemoryIndex(threshold=args.threshold), hasher))
    clusters: dict[str, list[str]] = defaultdict(list)
    for res in results:
        clusters[res["cluster"]].append(res["id"])
    multi = {c: m for c, m in clusters.items() if len(m) > 1}
    dups = [r for r in results if r["status"] == "duplicate"]
    sizes: dict[int, int] = defaultdict(int)
    for members in multi.values():
        sizes[len(members)] += 1
    print(f"{len(records)} articles, threshold {args.threshold}, k={hasher.k}: {len(dups)} duplicates in "
          f"{len(multi)} clusters; sizes {dict(sorted(sizes.items()))}")
    for members in sorted(multi.values(), key=len, reverse=True):
        print(f"  [{len(members)}] " + " || ".join(f"{m}: {by_id[m]['title'][:60]}" for m in members[:4]))

    pairs = [(r["id"], r["duplicate_of"], r["similarity"]) for r in dups]
    rng = random.Random(2017)
    sample = rng.sample(pairs, min(args.sample, len(pairs)))
    print(f"\nsample of {len(sample)} (duplicate, canonical) pairs: estimated / exact Jaccard, titles")
    for dup, canon, sim in sorted(sample, key=lambda p: p[2]):
        j = exact_jaccard(by_id[dup]["text"], by_id[canon]["text"], hasher.k)
        print(f"  {dup} {canon}  est {sim:.2f} exact {j:.2f}  {by_id[dup]['title'][:50]} || {by_id[canon]['title'][:50]}")

    if LABELS.exists():
        labels = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
        found = {f"{d} {c}": s for d, c, s in pairs}
        judged = [(key, verdict) for key, verdict in labels.items() if key in found]
        same = sum(v == "same" for _, v in judged)
        print(f"\nlabelled pairs among today's duplicates: {len(judged)}; same article: {same}; "
              f"precision {same / max(1, len(judged)):.2f}")
        for band in ((0.5, 0.6), (0.6, 0.8), (0.8, 1.01)):
            inb = [v for k, v in judged if band[0] <= found[k] < band[1]]
            if inb:
                print(f"  similarity {band[0]:.1f}-{band[1]:.1f}: {sum(v == 'same' for v in inb)}/{len(inb)} same")


if __name__ == "__main__":
    main()
