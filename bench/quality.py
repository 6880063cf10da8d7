"""Generic-extraction quality on the Zyte article-extraction benchmark, beside trafilatura.

Metric = scrapinghub/article-extraction-benchmark ``evaluate.py``, reproduced exactly:
tokens are ``\\w+`` matches (case kept, no lowercasing); 4-token shingles counted as a
multiset (Counter), tp/fp/fn = min/excess counts, normalised by tp+fp+fn per page so long
pages weigh no more than short ones (a text under 4 tokens is one short shingle);
precision averaged over pages with tp+fp > 0, recall over pages with tp+fn > 0; F1 from
the two averages. trafilatura is run as the benchmark runs it
(``extract(html, include_comments=False)``) and also with ``fast=True``, in the same run,
because this machine is shared and noisy.

Usage: .venv/bin/python bench/quality.py [--corpus PATH] [--worst N] [--vn PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.generic_extract import extract_generic  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "zyte-article-extraction-benchmark"
DEFAULT_VN = ROOT.parent / "shared" / "corpora" / "vn-pages"
TOKEN_RE = re.compile(r"\w+", re.UNICODE)
Extractor = Callable[[str], str]


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of n-token shingles, as the benchmark counts them."""
    tokens = TOKEN_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """Per-page shingle counts, normalised to sum to 1 (the benchmark's weighting)."""
    t, p = shingles(true), shingles(pred)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def precision_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def recall_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def summarise(counts: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """(precision, recall, F1) from per-page counts, exactly as evaluate.py does."""
    precision = statistics.mean([precision_score(*c) for c in counts if c[0] + c[1] > 0] or [0.0])
    recall = statistics.mean([recall_score(*c) for c in counts if c[0] + c[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def ours(html: str) -> str:
    return extract_generic(html).text


def trafilatura_default(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


def trafilatura_fast(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, fast=True) or ""


def load_corpus(corpus: Path) -> list[tuple[str, str, str]]:
    """[(id, html, true body)] in id order."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        with gzip.open(corpus / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as f:
            pages.append((key, f.read(), truth[key].get("articleBody", "")))
    return pages


def run(extractor: Extractor, pages: list[tuple[str, str, str]]) -> tuple[list[str], float]:
    """Outputs per page and mean ms/page (one warm-up page first, untimed)."""
    if pages:
        extractor(pages[0][1])
    outputs = []
    start = time.perf_counter()
    for _key, html, _true in pages:
        outputs.append(extractor(html))
    ms = (time.perf_counter() - start) * 1000 / max(1, len(pages))
    return outputs, ms


def show_worst(pages: list[tuple[str, str, str]], outputs: list[str], n: int, baseline: list[str]) -> None:
    """Print the n pages with the lowest F1: what was missed and what was extra."""
    rows = []
    for (key, _html, true), pred, base in zip(pages, outputs, baseline, strict=True):
        p, r, f = summarise([tp_fp_fn(true, pred)])
        bf = summarise([tp_fp_fn(true, base)])[2]
        rows.append((f, p, r, bf, key, true, pred))
    rows.sort()
    for f, p, r, bf, key, true, pred in rows[:n]:
        print(f"\n=== {key[:12]} F1={f:.3f} P={p:.3f} R={r:.3f} (trafilatura F1={bf:.3f})")
        true_lines = {ln.strip() for ln in true.split("\n") if ln.strip()}
        pred_lines = [ln.strip() for ln in pred.split("\n") if ln.strip()]
        t_sh = shingles(true)
        for ln in pred_lines:
            sh = shingles(ln)
            if ln not in true_lines and not (sh & t_sh):
                print("  + EXTRA  ", ln[:150])
        p_sh = shingles(pred)
        for ln in true.split("\n"):
            ln = ln.strip()
            if ln and not (shingles(ln) & p_sh):
                print("  - MISSED ", ln[:150])


def vn_report(vn: Path) -> None:
    """Loose figures on the Vietnamese pages; exact metric where ground truth exists."""
    gt_file, page = vn / "VnExpress.json", vn / "VnExpress_2025_10_22.html.gz"
    if gt_file.exists() and page.exists():
        gt = json.loads(gt_file.read_text(encoding="utf-8"))
        if "body" not in gt:  # fundus keys its test data by layout version ("V1")
            gt = next(iter(gt.values()))
        body = gt["body"]
        true = "\n".join(_paragraphs(body))
        with gzip.open(page, "rt", encoding="utf-8") as f:
            html = f.read()
        for name, fn in (("ours", ours), ("trafilatura", trafilatura_default)):
            p, r, f1 = summarise([tp_fp_fn(true, fn(html))])
            print(f"VnExpress_2025_10_22 {name:<12} P={p:.3f} R={r:.3f} F1={f1:.3f}")
    for path in sorted(vn.glob("*_article.html")):
        html = path.read_text(encoding="utf-8", errors="replace")
        a, t = ours(html), trafilatura_default(html)
        p, r, f1 = summarise([tp_fp_fn(t, a)])
        print(f"{path.name:<22} ours {len(a):>6} chars, trafilatura {len(t):>6}; agreement F1={f1:.3f}")


def _paragraphs(obj: object) -> list[str]:
    """Collect paragraph strings from the fundus ground-truth JSON (nested dicts/lists)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, list):
        return [s for item in obj for s in _paragraphs(item)]
    if isinstance(obj, dict):
        keys = [k for k in ("summary", "sections", "headline", "paragraphs") if k in obj]
        return [s for k in keys for s in _paragraphs(obj[k])]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--vn", type=Path, default=DEFAULT_VN)
    parser.add_argument("--worst", type=int, default=0, help="print per-page diffs of the N worst pages")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages (quick look)")
    parser.add_argument("--no-peers", action="store_true", help="skip trafilatura (diagnostics only)")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").exists():
        print(f"skipped: benchmark corpus not found at {args.corpus}", file=sys.stderr)
        return 0
    pages = load_corpus(args.corpus)
    if args.limit:
        pages = pages[: args.limit]
    extractors: list[tuple[str, Extractor]] = [("newsdedup generic", ours)]
    if not args.no_peers:
        extractors += [("trafilatura", trafilatura_default), ("trafilatura fast", trafilatura_fast)]
    results = {}
    for name, fn in extractors:
        outputs, ms = run(fn, pages)
        counts = [tp_fp_fn(true, pred) for (_k, _h, true), pred in zip(pages, outputs, strict=True)]
        results[name] = (*summarise(counts), ms, outputs)
    print(f"Zyte article-extraction benchmark, {len(pages)} pages")
    print(f"{'extractor':<20} {'precision':>9} {'recall':>7} {'F1':>6} {'ms/page':>8}  ratio (F1, speed)")
    base = results.get("trafilatura")
    for name, (p, r, f1, ms, _out) in results.items():
        ratio = f"  {f1 / base[2]:.3f}x  {base[3] / ms:.2f}x faster" if base else ""
        print(f"{name:<20} {p:>9.3f} {r:>7.3f} {f1:>6.3f} {ms:>8.1f}{ratio}")
    if args.worst:
        baseline = base[4] if base else results["newsdedup generic"][4]
        show_worst(pages, results["newsdedup generic"][4], args.worst, baseline)
    if args.vn.exists():
        print()
        vn_report(args.vn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
