"""`make bench`: every benchmark in bench/, one after another, then ONE table of figures.

Each script runs in its own subprocess with small sizes and a timeout (the whole run stays
well under 10 minutes on 2 cores), and reports its peer in the same run, so the ratio is
what to read on this shared, noisy machine. Scripts ending with a `RESULT {json}` line are
read from it; the others' printed tables are parsed (see the `parse_*` functions). A script
that is missing, fails or times out gets a row saying so — the others still run.

Usage: .venv/bin/python bench/run_all.py [--only NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
Row = dict[str, Any]  # stage, peer, peer_value, ours, ours_value, unit, ratio, target


@dataclass
class Bench:
    script: str
    args: list[str]
    timeout: float
    parse: Callable[[str], list[Row]]


def num(text: str) -> float:
    return float(text.replace(",", ""))


def row(stage: str, peer: str, peer_value: float | None, ours: str, ours_value: float | None, unit: str,
        target: str, higher_is_better: bool = True) -> Row:
    ratio = None
    if peer_value and ours_value:
        ratio = ours_value / peer_value if higher_is_better else peer_value / ours_value
    return {"stage": stage, "peer": peer, "peer_value": peer_value, "ours": ours, "ours_value": ours_value,
            "unit": unit, "ratio": ratio, "target": target}


def result_json(out: str) -> dict[str, Any]:
    line = next((x for x in reversed(out.splitlines()) if x.startswith("RESULT ")), None)
    if line is None:
        raise ValueError("no RESULT line")
    return dict(json.loads(line[7:]))


def parse_minhash(out: str) -> list[Row]:
    rates = {m.group(1).strip(): num(m.group(2)) for m in re.finditer(r"^(.+?):\s+([\d,]+) docs/s", out, re.M)}
    peer = next(v for k, v in rates.items() if k.startswith("datasketch"))
    ours = next(v for k, v in rates.items() if k.startswith("dedup.minhash"))
    return [row("MinHash signatures, 5.5 KB, 128 perms", "datasketch update_batch", peer,
                "dedup.minhash", ours, "docs/s", ">= 8,000 docs/s")]


def parse_index(out: str) -> list[Row]:
    peer = re.search(r"datasketch MinHashLSH redis: ([\d,]+) inserts/s.*?([\d,]+) queries/s, ([\d,]+) B/doc", out)
    assert peer is not None
    rows = []
    for m in re.finditer(r"^RedisIndex (bits=\d+): ([\d,]+) check-and-insert docs/s.*?([\d,]+) B/doc", out, re.M):
        rows.append(row(f"LSH check-and-insert on Redis ({m.group(1)})", "datasketch Redis inserts",
                        num(peer.group(1)), "RedisIndex", num(m.group(2)), "docs/s", ">= 10,000 docs/s"))
        rows.append(row(f"LSH index memory ({m.group(1)})", "datasketch Redis", num(peer.group(3)), "RedisIndex",
                        num(m.group(3)), "B/doc", "<= 400 B/doc", higher_is_better=False))
    return rows


def parse_extract(out: str) -> list[Row]:
    means = {}
    for line in out.splitlines():
        m = re.match(r"^(\S.*?)\s{2,}((?:[\d.]+\s+)+)([\d.]+)x$", line)
        if m:
            means[m.group(1).strip()] = num(m.group(2).split()[-1])
    peer = means["trafilatura.extract"]
    out_rows = []
    for key, label, target in (("site rules (bytes, charset)", "site rules", "<= 3 ms/page"),
                               ("generic (extract_generic)", "generic", "<= 10 ms/page")):
        out_rows.append(row(f"extraction, {label}", "trafilatura.extract", peer, key, means[key], "ms/page",
                            target, higher_is_better=False))
    return out_rows


def parse_quality(out: str) -> list[Row]:
    f1 = {m.group(1).strip(): num(m.group(2)) for m in
          re.finditer(r"^(newsdedup generic|trafilatura)\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s", out, re.M)}
    pages = re.search(r"benchmark, (\d+) pages", out)
    return [row(f"generic extraction F1, Zyte ({pages.group(1) if pages else '?'} pages)", "trafilatura",
                f1["trafilatura"], "newsdedup generic", f1["newsdedup generic"], "F1", ">= 0.97")]


def parse_dedup_quality(out: str) -> list[Row]:
    lines = out.splitlines()
    head = next(i for i, x in enumerate(lines) if x.strip().startswith("threshold"))
    names = lines[head].split()[1:]
    values = next(x.split() for x in lines[head + 1:] if re.match(r"^\s+0?\.55\s", x))
    cells = dict(zip(names, values[1:], strict=False))
    recall = min(float(v) for k, v in cells.items() if k not in ("different_articles", "shared_std_paragraph",
                                                                 "seed000~001"))
    fp = max(float(cells.get("different_articles", 0)), float(cells.get("shared_std_paragraph", 0)))
    return [row("dedup recall (worst transformation, t=0.55)", "", None, "dedup", recall, "recall", "catch all"),
            row("dedup false positives (distinct pairs, t=0.55)", "", None, "dedup", fp, "rate", "0")]


def parse_crawl(out: str) -> list[Row]:
    r = result_json(out)
    peer = r["peer"]["pages_per_s"]
    return [row("end to end, mirror, 1 process", "bare Scrapy, defaults", peer, "newsdedup crawl",
                r["one_process"]["pages_per_s"], "pages/s", ""),
            row("end to end, mirror, 2 processes", "bare Scrapy, defaults", peer, "newsdedup crawl x2",
                r["two_processes"]["pages_per_s"], "pages/s", ">= 400 pages/s")]


def parse_queue(out: str) -> list[Row]:
    r = result_json(out)
    return [row(f"queue publish, {r['doc_bytes'] / 1000:.1f} KB docs", "redis-py pipelined XADD",
                r["peer_publish"], "DocumentQueue.publish", r["ours_publish"], "docs/s", ">= 20,000 docs/s"),
            row(f"queue consume, {r['doc_bytes'] / 1000:.1f} KB docs", "XREADGROUP + XACK, decoded",
                r["peer_consume"], "DocumentQueue.read + ack", r["ours_consume"], "docs/s", ">= 20,000 docs/s")]


BENCHES = [
    Bench("bench_minhash.py", ["--docs", "400", "--seconds", "2"], 180, parse_minhash),
    Bench("bench_index.py", ["--docs", "20000", "--queries", "1000"], 240, parse_index),
    Bench("bench_extract.py", ["--repeat", "5"], 180, parse_extract),
    Bench("quality.py", [], 240, parse_quality),
    Bench("dedup_quality.py", ["--n", "100", "--pairs", "500", "--k", "2", "--thresholds", "0.55"], 180,
          parse_dedup_quality),
    Bench("bench_queue.py", ["--docs", "20000", "--repeat", "3"], 180, parse_queue),
    Bench("bench_crawl.py", ["--per-site", "400"], 300, parse_crawl),
]


def run_one(bench: Bench) -> tuple[list[Row], str, float]:
    path = BENCH / bench.script
    if not path.is_file():
        return [], "not present", 0.0
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, str(path), *bench.args], cwd=ROOT, capture_output=True, text=True,
                              timeout=bench.timeout)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {bench.timeout:.0f} s", time.monotonic() - start
    took = time.monotonic() - start
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return [], f"exit {proc.returncode}: {tail[:120]}", took
    try:
        return bench.parse(proc.stdout), "ok", took
    except (ValueError, KeyError, AttributeError, AssertionError, StopIteration) as exc:
        return [], f"output not understood ({type(exc).__name__}: {exc})", took


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("F1", "recall", "rate"):
        return f"{value:.3f}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def markdown(rows: list[Row], notes: list[str]) -> str:
    out = ["| stage | peer (same run) | peer | newsdedup | ours | unit | ours vs peer | target |",
           "|---|---|---:|---|---:|---|---:|---|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "-"
        out.append(f"| {r['stage']} | {r['peer']} | {fmt(r['peer_value'], r['unit'])} | {r['ours']} | "
                   f"{fmt(r['ours_value'], r['unit'])} | {r['unit']} | {ratio} | {r['target']} |")
    return "\n".join([*out, "", *notes])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="run only these (e.g. bench_queue.py)")
    parser.add_argument("--json", action="store_true", help="also print the rows as a RESULT line")
    args = parser.parse_args()
    started = time.monotonic()
    rows: list[Row] = []
    notes: list[str] = []
    failed = 0
    for bench in BENCHES:
        if args.only and bench.script not in args.only:
            continue
        print(f"running {bench.script} {' '.join(bench.args)} ...", file=sys.stderr, flush=True)
        got, status, took = run_one(bench)
        rows.extend(got)
        failed += status != "ok"
        notes.append(f"- `{bench.script} {' '.join(bench.args)}`: {status} ({took:.0f} s)")
    total = time.monotonic() - started
    print(f"\nnewsdedup benchmarks, {datetime.now():%Y-%m-%d %H:%M}, {total:.0f} s in all "
          f"(ratio > 1: newsdedup better; for ms and B/doc it is peer / ours)\n")
    print(markdown(rows, notes))
    if args.json:
        print("RESULT " + json.dumps({"rows": rows, "seconds": round(total)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
