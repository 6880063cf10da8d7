import os
import signal
import subprocess
import sys
import textwrap
import time

import redis

from docqueue.stream import DocumentQueue


def doc(i: int, version: int = 1) -> dict:
    return {"id": f"site:{i}", "url": f"http://x/{i}", "canonical_url": f"http://x/{i}", "site": "site",
            "title": f"T{i}", "text": f"body {i}", "version": version}


def wait_idle(q: DocumentQueue) -> None:
    time.sleep(q.reclaim_idle_ms / 1000 + 0.05)


def test_publish_consume_ack(redis_client: redis.Redis) -> None:
    q = DocumentQueue(redis_client)
    ids = q.publish([doc(i) for i in range(5)])
    assert all(ids)
    got = [m.doc["id"] for m in q.iterate("g1", "c1")]
    assert got == [f"site:{i}" for i in range(5)]
    assert list(q.iterate("g1", "c1")) == []  # all acked
    assert redis_client.xpending("newsdedup:docs", "g1")["pending"] == 0
    # another group sees everything independently
    assert len(list(q.iterate("g2", "c1"))) == 5


def test_publish_is_idempotent_per_id_and_version(redis_client: redis.Redis) -> None:
    q = DocumentQueue(redis_client)
    first = q.publish([doc(1), doc(1)])
    assert first[0] is not None and first[1] is None
    assert q.publish([doc(1)]) == [None]
    assert q.publish([doc(1, version=2)])[0] is not None
    assert q.publish([doc(1, version=1)]) == [None]  # an older version arriving late is not re-published
    assert redis_client.xlen("newsdedup:docs") == 2


def test_unacked_entry_is_reclaimed_by_another_consumer(redis_client: redis.Redis) -> None:
    q = DocumentQueue(redis_client, reclaim_idle=0.2)
    q.publish([doc(1), doc(2)])
    dead_consumer = q.read("g", "dies", count=1)
    assert [m.doc["id"] for m in dead_consumer] == ["site:1"]
    # before the idle time another consumer gets only the unread entry
    assert [m.doc["id"] for m in q.read("g", "other", count=10)] == ["site:2"]
    q.ack("g", ["x"] if False else [])
    wait_idle(q)
    again = q.read("g", "other", count=10)
    assert [m.doc["id"] for m in again if m.doc["id"] == "site:1"] == ["site:1"]
    assert max(m.deliveries for m in again) == 2


def test_kill_9_between_read_and_ack_loses_nothing(redis_url: str, redis_client: redis.Redis) -> None:
    q = DocumentQueue(redis_client, reclaim_idle=0.3)
    q.publish([doc(i) for i in range(3)])
    script = textwrap.dedent(f"""
        import redis, sys, time
        from docqueue.stream import DocumentQueue
        q = DocumentQueue(redis.Redis.from_url({redis_url!r}))
        for msg in q.iterate("g", "victim"):
            print(msg.doc["id"], flush=True)
            time.sleep(60)  # killed here: read but never acked
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    assert first == "site:0"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_idle(q)
    survivor = [m.doc["id"] for m in q.iterate("g", "survivor")]
    assert sorted(survivor) == ["site:0", "site:1", "site:2"]
    assert redis_client.xpending("newsdedup:docs", "g")["pending"] == 0


def test_poison_entry_goes_to_dead_letters_with_reason(redis_client: redis.Redis) -> None:
    q = DocumentQueue(redis_client, reclaim_idle=0.05, max_deliveries=2)
    q.publish([doc(1), doc(2)])
    seen: list[str] = []

    def handler(d: dict) -> None:
        seen.append(d["id"])
        if d["id"] == "site:1":
            raise ValueError("cannot index this one")

    assert q.handle(handler, "g", "c") == 1
    for _ in range(3):
        wait_idle(q)
        q.handle(handler, "g", "c")
    assert seen.count("site:1") == 2  # delivered max_deliveries times, then dead-lettered
    dead = redis_client.xrange("newsdedup:docs:dead")
    assert len(dead) == 1
    fields = dead[0][1]
    assert b"cannot index this one" in fields[b"reason"]
    assert int(fields[b"deliveries"]) == 3
    assert redis_client.xpending("newsdedup:docs", "g")["pending"] == 0


def test_trim_never_drops_unread_or_pending(redis_client: redis.Redis) -> None:
    q = DocumentQueue(redis_client, trim_above=0)
    q.publish([doc(i) for i in range(10)])
    assert q.trim() == 0  # no group has read anything: keep all
    q.ensure_group("slow")
    fast = list(q.iterate("fast", "c"))
    assert len(fast) == 10
    assert q.trim() == 0  # "slow" has read nothing
    pending = q.read("slow", "c", count=4)
    q.ack("slow", [m.entry_id for m in pending[:2]])
    assert q.trim() == 2  # entries 0,1 read+acked by both groups; 2,3 pending in "slow"
    rest = [m.doc["id"] for m in q.iterate("slow", "c")]
    assert rest == [f"site:{i}" for i in range(4, 10)]
    assert redis_client.xlen("newsdedup:docs") == 8


def test_depth_reports_unread_and_pending(redis_client: redis.Redis) -> None:
    q = DocumentQueue(redis_client)
    q.publish([doc(i) for i in range(4)])
    q.read("g", "c", count=1)
    depth = q.depth()
    assert depth["length"] == 4
    assert depth["groups"]["g"] == {"pending": 1, "unread": 3, "consumers": 1}
