"""Recall and false positives of the dedup defaults on real articles (baomoi-2017).

For N articles, each transformation below must come out DUPLICATE of the original
(recall); different articles, different articles sharing one standard paragraph, and the
two seeds (same story, different articles) must come out distinct (false positives).
Every pair goes through the real pipeline: text rules -> normalise -> MinHasher(k) ->
MemoryIndex(threshold). Sweeps k and threshold so the defaults can be chosen by figures.

    .venv/bin/python bench/dedup_quality.py [--n 100] [--pairs 3000] [--k 2,3,4,5] [--fn-weight 0.9]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dedup.batch import matching_text  # noqa: E402
from dedup.index import IndexEntry, Verdict  # noqa: E402
from dedup.lsh_params import lsh_params  # noqa: E402
from dedup.memory_index import DEFAULT_FN_WEIGHT, MemoryIndex  # noqa: E402
from dedup.minhash import MinHasher, shingles  # noqa: E402
from dedup.normalize import content_hash  # noqa: E402

SHARED = ROOT.parent / "shared"

HEADER = ["Trang chủ | Thời sự | Thế giới | Quân sự", "Thứ Năm, 07/11/2024 08:15 (GMT+7)"]
FOOTER = [
    "© Copyright 2024 Báo điện tử Tin Nhanh. Giấy phép số 123/GP-BTTTT do Bộ Thông tin và Truyền thông cấp.",
    "Tổng biên tập: Nguyễn Văn An. Địa chỉ: 15 Phố Huế, Hai Bà Trưng, Hà Nội.",
    "Ghi rõ nguồn 'Tin Nhanh' khi phát hành lại thông tin từ website này.",
]
STANDARD_PARAGRAPH = (
    "Bạn đọc có thông tin, hình ảnh, video clip về các vụ việc nóng, tiêu cực hoặc có ý kiến đóng góp "
    "cho bài viết xin vui lòng gửi về hòm thư của ban biên tập hoặc liên hệ đường dây nóng của tòa soạn. "
    "Thông tin của bạn đọc sẽ được bảo mật tuyệt đối và được ban biên tập xác minh, xử lý trong thời gian "
    "sớm nhất. Tòa soạn xin chân thành cảm ơn sự quan tâm, đóng góp của quý độc giả trong thời gian qua."
)

_NEW_TO_OLD = {f + s: b + t for f_set, b, s_set, s in (("òóỏõọ", "o", "àáảãạ", "a"), ("òóỏõọ", "o", "èéẻẽẹ", "e"),
               ("ùúủũụ", "u", "ỳýỷỹỵ", "y")) for f, t in zip(f_set, s_set, strict=True)}
_OLD_STYLE_RE = re.compile("(" + "|".join(_NEW_TO_OLD) + r")(?!\w)")
_IY_RE = re.compile(r"(?:(?<=[bcdđghklmnprstvxBCDĐGHKLMNPRSTVX])|(?<=qu))([yýỳỷỹỵ])(?!\w)")
_IY = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")


def old_style(text: str) -> str:
    """New-style tone placement and y spellings -> old style (hòa -> hoà, quý -> quí, Mỹ -> Mĩ)."""
    text = _OLD_STYLE_RE.sub(lambda m: _NEW_TO_OLD[m.group(1)], unicodedata.normalize("NFC", text))
    return _IY_RE.sub(lambda m: m.group(1).translate(_IY), text)


def truncate(text: str, keep: float = 0.7) -> str:
    cut = int(len(text) * keep)
    while cut < len(text) and not text[cut].isspace():
        cut += 1
    return text[:cut]


def edit_words(text: str, rng: random.Random, vocab: list[str], rate: float = 0.1) -> str:
    """Replace `rate` of the words (scattered, uniformly) by random corpus words; keeps lines."""
    lines = [line.split(" ") for line in text.split("\n")]
    slots = [(i, j) for i, words in enumerate(lines) for j, w in enumerate(words) if w]
    for i, j in rng.sample(slots, int(len(slots) * rate)):
        lines[i][j] = rng.choice(vocab)
    return "\n".join(" ".join(words) for words in lines)


def with_chrome(text: str, related: list[str]) -> str:
    block = ["Tin liên quan"] + [t for title in related for t in (title, "Tin tức 1")]
    return "\n".join([*HEADER, text, *block, *FOOTER])


def load(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


FN_WEIGHT = DEFAULT_FN_WEIGHT  # --fn-weight: weight of false negatives in datasketch's band optimiser


def is_dup(a: str, b: str, hasher: MinHasher, threshold: float) -> tuple[bool, float | None]:
    """Run (a, b) through a fresh MemoryIndex; True when b is a DUPLICATE of a."""
    bands = lsh_params(threshold, hasher.num_perm, 1.0 - FN_WEIGHT, FN_WEIGHT)
    index = MemoryIndex(threshold=threshold, num_perm=hasher.num_perm, bands=bands)
    entries = []
    for name, text in (("a", a), ("b", b)):
        norm = matching_text(text)
        entries.append(IndexEntry(name, hasher.signature(norm), content_hash(norm)))
    decision = index.check_and_insert(entries)[1]
    return decision.verdict is Verdict.DUPLICATE, decision.similarity


def jaccard(a: str, b: str, k: int) -> float:
    x, y = set(shingles(matching_text(a), k)), set(shingles(matching_text(b), k))
    return len(x & y) / max(1, len(x | y))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="articles per transformation")
    ap.add_argument("--pairs", type=int, default=3000, help="different-article pairs")
    ap.add_argument("--k", default="2,3,4,5")
    ap.add_argument("--thresholds", default="0.4,0.45,0.5,0.55,0.6")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fn-weight", type=float, default=DEFAULT_FN_WEIGHT, help="band optimiser weight of misses")
    args = ap.parse_args()
    global FN_WEIGHT
    FN_WEIGHT = args.fn_weight
    corpus = SHARED / "corpora" / "baomoi-2017.jsonl.gz"
    if not corpus.exists():
        sys.exit(f"corpus not found: {corpus}")
    rng = random.Random(args.seed)
    records = load(corpus)
    # distinct titles only: baomoi holds natural near-duplicates under equal titles
    by_title: dict[str, dict[str, str]] = {}
    for r in records:
        by_title.setdefault(r["title"], r)
    pool = [r for r in by_title.values() if len(r["text"].split()) >= 80]
    vocab = [w for r in rng.sample(pool, 200) for w in r["text"].split() if w.isalpha()]
    sample = rng.sample(pool, args.n)
    others = [r for r in pool if r not in sample]
    transforms: dict[str, Callable[[str], str]] = {
        "nfd": lambda t: unicodedata.normalize("NFD", t),
        "old_tone_style": old_style,
        "header_footer_related": lambda t: with_chrome(t, [o["title"] for o in rng.sample(others, 3)]),
        "first_70pct": truncate,
        "edit_10pct": lambda t: edit_words(t, rng, vocab),
        "edit_10pct+header_footer": lambda t: with_chrome(edit_words(t, rng, vocab), []),
    }
    variants = {name: [(r["text"], fn(r["text"])) for r in sample] for name, fn in transforms.items()}
    pairs = [tuple(rng.sample(pool, 2)) for _ in range(args.pairs)]
    distinct = {
        "different_articles": [(a["text"], b["text"]) for a, b in pairs],
        "shared_std_paragraph": [
            (a["text"] + "\n" + STANDARD_PARAGRAPH, b["text"] + "\n" + STANDARD_PARAGRAPH) for a, b in pairs[:500]
        ],
    }
    seeds = SHARED / "seeds"
    seed_pair = (
        (seeds / "000_c2a6c58238d759cb.txt").read_text(encoding="utf-8"),
        (seeds / "001_34fc34c2a117d8ed.txt").read_text(encoding="utf-8"),
    )
    thresholds = [float(t) for t in args.thresholds.split(",")]
    print(f"{len(sample)} articles per transformation, {len(pairs)} different-article pairs\n")
    for k in (int(x) for x in args.k.split(",")):
        hasher = MinHasher(k=k)
        print(f"k={k}  seed 000 vs 001 shingle Jaccard {jaccard(*seed_pair, k):.3f}; mean exact Jaccard: " + ", ".join(
            f"{name} {np.mean([jaccard(a, b, k) for a, b in v[:30]]):.2f}" for name, v in variants.items()))
        head = f"{'threshold':>10} " + " ".join(f"{n[:22]:>23}" for n in [*variants, *distinct, "seed000~001"])
        print(head)
        for t in thresholds:
            print(f"{'bands':>10} {lsh_params(t, hasher.num_perm, 1.0 - FN_WEIGHT, FN_WEIGHT)}")
            cells = [f"{np.mean([is_dup(a, b, hasher, t)[0] for a, b in v]):>23.3f}" for v in variants.values()]
            cells += [f"{np.mean([is_dup(a, b, hasher, t)[0] for a, b in v]):>23.4f}" for v in distinct.values()]
            cells.append(f"{'DUP' if is_dup(*seed_pair, hasher, t)[0] else 'distinct':>23}")
            print(f"{t:>10.2f} " + " ".join(cells))
        print()
    print("columns: recall for transformations; false-positive rate for distinct pairs")


if __name__ == "__main__":
    main()
