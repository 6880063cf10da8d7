"""Extraction speed on the real Vietnamese pages: site rules vs generic vs trafilatura.

All extractors run in the same process on the same pages, interleaved round by round,
so the machine's noise hits them alike; the figure per extractor is the mean over pages
of each page's median time. Usage:

    .venv/bin/python bench/bench_extract.py [--repeat 30] [--pages DIR]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract import extract_article  # noqa: E402
from crawler.generic_extract import extract_generic  # noqa: E402

ARTICLES = ["dantri_article.html", "tuoitre_article.html", "nld_article.html", "vnexpress_article.html",
            "VnExpress_2025_10_22.html.gz"]


def load(pages_dir: Path) -> list[tuple[str, bytes]]:
    out = []
    for name in ARTICLES:
        data = (pages_dir / name).read_bytes()
        out.append((name, gzip.decompress(data) if name.endswith(".gz") else data))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="runs per page and extractor")
    parser.add_argument("--pages", type=Path, default=ROOT / "tests" / "fixtures" / "vn-pages")
    args = parser.parse_args()
    pages = load(args.pages)
    texts = [(name, data.decode("utf-8")) for name, data in pages]

    def site_rules_str(i: int) -> object:
        art = extract_article(texts[i][1])
        assert not art.used_fallback, texts[i][0]
        return art

    extractors: dict[str, Callable[[int], object]] = {
        "site rules (str)": site_rules_str,
        "site rules (bytes, charset)": lambda i: extract_article(pages[i][1]),
        "generic (extract_generic)": lambda i: extract_generic(texts[i][1], None),
        "trafilatura.extract": lambda i: trafilatura.extract(texts[i][1]),
        "trafilatura.extract fast=True": lambda i: trafilatura.extract(texts[i][1], fast=True),
    }
    times: dict[str, list[list[float]]] = {k: [[] for _ in pages] for k in extractors}
    for fn in extractors.values():  # warm-up: imports, caches
        for i in range(len(pages)):
            fn(i)
    for _ in range(args.repeat):
        for key, fn in extractors.items():
            for i in range(len(pages)):
                t0 = time.perf_counter()
                fn(i)
                times[key][i].append((time.perf_counter() - t0) * 1000)

    per_page = {k: [statistics.median(v) for v in runs] for k, runs in times.items()}
    mean = {k: statistics.fmean(v) for k, v in per_page.items()}
    peer = mean["trafilatura.extract"]
    sizes = ", ".join(f"{name} {len(data) // 1024} KB" for name, data in pages)
    print(f"{len(pages)} real pages ({sizes}), {args.repeat} runs each, median per page")
    header = f"{'extractor':32}" + "".join(f"{n.split('_')[0][:10]:>11}" for n, _ in pages) + f"{'mean ms':>10}{'vs traf.':>10}"
    print(header)
    for key in extractors:
        cells = "".join(f"{ms:11.2f}" for ms in per_page[key])
        print(f"{key:32}{cells}{mean[key]:10.2f}{peer / mean[key]:9.1f}x")
    print("targets (DESIGN.md): site rules <= 3 ms/page, generic <= 10 ms/page")


if __name__ == "__main__":
    main()
