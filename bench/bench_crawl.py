"""End to end on the local mirror: pages/s fetched, extracted, deduplicated and queued.

Three crawls of the same mirror in one run (the machine is shared and noisy, so only the
ratio means much): bare Scrapy with default settings fetching the mirror's article URLs (the
peer), newsdedup in one process, and newsdedup in two processes, each crawling a disjoint
half of the sites (`newsdedup worker` needs the scheduler feeding tasks, so the two-process
figure uses the `crawl` code path, `crawler.runner.run_crawl`, once per half). The mirror
runs in its own process (its threads would otherwise compete with the crawler's GIL), and
each newsdedup crawl starts on an empty Redis (own redis-server, free port).

Rate = responses / (last finish - first start) from Scrapy's own stats, so interpreter
start-up and imports are not counted on either side.

Usage: .venv/bin/python bench/bench_crawl.py [--per-site N]
Last line: RESULT {json}
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BAOMOI = ROOT.parent / "shared" / "corpora" / "baomoi-2017.jsonl.gz"
# throttling off for a throughput figure; robots.txt and every other guard stay on
FAST = {"NEWSDEDUP_AUTOTHROTTLE": "false", "NEWSDEDUP_CONCURRENT_REQUESTS": "32",
        "NEWSDEDUP_CONCURRENT_PER_DOMAIN": "16"}


def serve_mirror(per_site: int) -> None:
    """Child: serve the mirror, print {origins, urls} as one line, stop on stdin EOF."""
    from crawler.mirror import MirrorServer, demo_mirror, mirror_from_baomoi

    content = mirror_from_baomoi(BAOMOI, per_site=per_site) if BAOMOI.is_file() else demo_mirror()
    with MirrorServer(content) as server:
        origins = server.start() if not server.origins else server.origins
        server.warm()  # pages pre-rendered: the mirror's CPU should not be what is measured
        urls = [a.url for a in server.expected_articles()]
        print(json.dumps({"origins": origins, "urls": urls, "source": "baomoi" if BAOMOI.is_file() else "demo"}),
              flush=True)
        sys.stdin.read()


def stats_line(stats: dict[str, Any]) -> str:
    out = {"pages": int(stats.get("response_received_count", 0)),
           "start": stats["start_time"].timestamp(), "finish": stats["finish_time"].timestamp(),
           "articles": int(stats.get("newsdedup/articles", 0)), "queued": int(stats.get("newsdedup/queued", 0)),
           "duplicates": int(stats.get("newsdedup/verdict/duplicate", 0))}
    return "STATS " + json.dumps(out)


def run_peer(url_file: str) -> None:
    """Child: bare Scrapy, default settings, fetching the given URLs with an empty callback."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = Path(url_file).read_text().split()

    class Peer(scrapy.Spider):
        name = "peer"

        async def start(self) -> Any:
            for url in urls:
                yield scrapy.Request(url)

        def parse(self, response: Any) -> None:
            return None

    process = CrawlerProcess({"LOG_LEVEL": "WARNING"})
    crawler = process.create_crawler(Peer)
    process.crawl(crawler)
    process.start()
    print(stats_line(crawler.stats.get_stats()), flush=True)


def run_ours(sites: list[str]) -> None:
    """Child: the `newsdedup crawl` code path over the named sites (origins from the environment)."""
    from crawler.runner import run_crawl, sites_for
    from docqueue.settings import load_settings

    settings = load_settings()
    summary = run_crawl(settings, sites_for(settings, sites))
    print(stats_line(summary.stats), flush=True)


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def collect(procs: list[subprocess.Popen[str]], timeout: float) -> dict[str, Any]:
    runs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        line = next((x for x in out.splitlines() if x.startswith("STATS ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"crawl child failed ({proc.returncode}): {err[-1500:]}")
        runs.append(json.loads(line[6:]))
    span = max(r["finish"] for r in runs) - min(r["start"] for r in runs)
    total = {k: sum(r[k] for r in runs) for k in ("pages", "articles", "queued", "duplicates")}
    return {**total, "seconds": round(span, 2), "pages_per_s": round(total["pages"] / span, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-site", type=int, default=300, help="baomoi originals per mirror site")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--serve-mirror", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--ours", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_mirror is not None:
        serve_mirror(args.serve_mirror)
        return 0
    if args.peer:
        run_peer(args.peer)
        return 0
    if args.ours:
        run_ours(args.ours)
        return 0

    import redis

    from bench.bench_queue import redis_server

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEDUP_") and k != "REDIS_URL"}
    base_env["PYTHONPATH"] = str(ROOT)
    mirror = subprocess.Popen([sys.executable, __file__, "--serve-mirror", str(args.per_site)], env=base_env,
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert mirror.stdout is not None
        info = json.loads(mirror.stdout.readline())
        origins: dict[str, str] = info["origins"]
        sites = sorted(origins)
        url_file = Path(f"/tmp/newsdedup-bench-urls-{os.getpid()}.txt")
        url_file.write_text("\n".join(info["urls"]))
        results: dict[str, Any] = {"mirror": info["source"], "mirror_articles": len(info["urls"]),
                                   "date": datetime.now().strftime("%Y-%m-%d")}
        results["peer"] = collect([spawn(["--peer", str(url_file)], base_env)], args.timeout)
        with redis_server() as url:
            env = {**base_env, **FAST, "REDIS_URL": url, "NEWSDEDUP_SITE_ORIGINS": json.dumps(origins)}
            client = redis.Redis.from_url(url)
            results["one_process"] = collect([spawn(["--ours", *sites], env)], args.timeout)
            client.flushall()
            halves = [sites[0::2], sites[1::2]]
            results["two_processes"] = collect([spawn(["--ours", *h], env) for h in halves], args.timeout)
        url_file.unlink(missing_ok=True)
    finally:
        if mirror.stdin:
            mirror.stdin.close()
        mirror.wait(30)
    peer = results["peer"]["pages_per_s"]
    for key in ("one_process", "two_processes"):
        results[key]["ratio"] = round(results[key]["pages_per_s"] / peer, 2)
    print(f"end to end on the local mirror ({results['mirror']}, {results['mirror_articles']} article pages, "
          f"mirror in its own process)")
    print(f"{'run':<34}{'pages':>7}{'seconds':>9}{'pages/s':>9}{'ratio':>7}")
    print(f"{'bare Scrapy, default settings':<34}{peer and results['peer']['pages']:>7}"
          f"{results['peer']['seconds']:>9}{peer:>9}{1.0:>7.2f}")
    for key, label in (("one_process", "newsdedup, 1 process"), ("two_processes", "newsdedup, 2 processes")):
        r = results[key]
        print(f"{label:<34}{r['pages']:>7}{r['seconds']:>9}{r['pages_per_s']:>9}{r['ratio']:>7.2f}"
              f"   ({r['articles']} articles, {r['duplicates']} duplicates, {r['queued']} queued)")
    print("target (DESIGN.md): >= 400 pages/s with two worker processes")
    print("RESULT " + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
