"""MinHash signatures: dedup.minhash vs datasketch `update_batch`, same texts, same run.

Texts: baomoi-2017 articles trimmed to ~5.5 KB of UTF-8 (seeds repeated when ../shared
is absent). The peer is what a datasketch user writes: build the k-syllable shingles in
Python and `MinHash(num_perm=128, scheme="legacy").update_batch(shingles)` (sha1 per
shingle). numba is warmed up before any timing. Prints docs/s and the ratio; also
normalise+sign and clean+normalise+sign from raw text.

    .venv/bin/python bench/bench_minhash.py [--docs 400] [--seconds 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from datasketch import MinHash  # noqa: E402

from dedup.batch import matching_text  # noqa: E402
from dedup.minhash import MinHasher, shingle_hash, shingles  # noqa: E402
from dedup.normalize import normalize  # noqa: E402

SHARED = ROOT.parent / "shared"
TARGET_BYTES = 5500


def trim(text: str, size: int = TARGET_BYTES) -> str:
    data = text.encode("utf-8")[:size]
    return data.decode("utf-8", "ignore").rsplit(" ", 1)[0]


def load_texts(n: int) -> tuple[list[str], str]:
    corpus = SHARED / "corpora" / "baomoi-2017.jsonl.gz"
    if corpus.exists():
        with gzip.open(corpus, "rt", encoding="utf-8") as fh:
            texts = [r["text"] for r in map(json.loads, fh) if len(r["text"].encode("utf-8")) >= TARGET_BYTES]
        return [trim(t) for t in texts[:n]], f"baomoi-2017 ({corpus})"
    seeds = sorted((ROOT / "tests" / "fixtures" / "seeds").glob("*.txt"))
    joined = "\n".join(p.read_text(encoding="utf-8") for p in seeds)
    return [trim((joined + "\n") * 2)] * n, "seeds concatenated"


def rate(fn: Callable[[str], object], texts: list[str], seconds: float) -> float:
    """Best docs/s of 3 rounds, each looping over the texts for at least `seconds`."""
    best = 0.0
    for _ in range(3):
        done = 0
        start = time.perf_counter()
        while True:
            for text in texts:
                fn(text)
            done += len(texts)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        best = max(best, done / elapsed)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    raw, source = load_texts(args.docs)
    norm = [normalize(t) for t in raw]
    hasher = MinHasher()
    hasher.warm_up()
    normalize("khởi động")  # compile / load the normaliser too

    # the signatures are the ones datasketch computes with the project's shingle hash
    check = MinHash(num_perm=hasher.num_perm, seed=hasher.seed, hashfunc=shingle_hash, scheme="legacy")
    check.update_batch(shingles(norm[0], hasher.k))
    assert np.array_equal(check.hashvalues, hasher.signature(norm[0]))

    def peer(text: str) -> None:
        m = MinHash(num_perm=hasher.num_perm, seed=hasher.seed, scheme="legacy")
        m.update_batch(shingles(text, hasher.k))

    mean_kb = sum(len(t.encode("utf-8")) for t in raw) / len(raw) / 1000
    print(f"texts: {len(raw)} from {source}, mean {mean_kb:.2f} KB raw, k={hasher.k}, {hasher.num_perm} perms")
    peer_rate = rate(peer, norm[: max(20, len(norm) // 10)], args.seconds)
    ours = rate(hasher.signature, norm, args.seconds)
    print(f"datasketch update_batch (sha1, shingles built in Python): {peer_rate:10,.0f} docs/s")
    print(f"dedup.minhash signature (numba):                          {ours:10,.0f} docs/s  ({ours / peer_rate:.1f}x)")
    print(f"normalise + sign from raw text:                           "
          f"{rate(lambda t: hasher.signature(normalize(t)), raw, args.seconds):10,.0f} docs/s")
    print(f"text rules + normalise + sign from raw text:              "
          f"{rate(lambda t: hasher.signature(matching_text(t)), raw, args.seconds):10,.0f} docs/s")
    print(f"normalise only:                                           {rate(normalize, raw, args.seconds):10,.0f} docs/s")


if __name__ == "__main__":
    main()
