"""The crawl task stream on a real Redis: ack only when done, reclaim from silent workers,
heartbeats, retries with backoff, dead letters, release on stop, de-duplicated article tasks."""

from __future__ import annotations

import time

import orjson
import redis

from scheduler.tasks import ARTICLE, DISCOVER, Task, TaskQueue


def _queue(client: redis.Redis, **kw: float) -> TaskQueue:
    return TaskQueue(client, reclaim_idle=kw.pop("reclaim_idle", 0.2), **kw)  # type: ignore[arg-type]


def test_unacked_task_is_reclaimed_by_another_worker(redis_client: redis.Redis) -> None:
    q = _queue(redis_client)
    q.add([Task(ARTICLE, "vnexpress", url="https://vnexpress.net/a-1.html")])
    first = q.take("dead-worker", 10)
    assert [t.url for t in first] == ["https://vnexpress.net/a-1.html"]
    assert q.take("other", 10) == []  # pending on the first worker, not idle long enough yet
    time.sleep(0.3)
    again = q.take("other", 10)
    assert [t.entry for t in again] == [first[0].entry] and again[0].deliveries == 2
    assert q.reclaimed == 1
    q.ack([again[0].entry])
    assert q.drained()


def test_heartbeat_keeps_a_live_workers_task(redis_client: redis.Redis) -> None:
    q = _queue(redis_client, reclaim_idle=0.5)
    q.discover("dantri")
    [task] = q.take("live", 5)
    for _ in range(4):
        time.sleep(0.2)
        q.heartbeat("live", [task.entry])
        assert q.take("thief", 5) == []
    assert not q.drained()


def test_too_many_deliveries_go_to_dead_letters(redis_client: redis.Redis) -> None:
    q = _queue(redis_client, max_deliveries=2)
    q.discover("nld")
    q.take("a", 1)
    time.sleep(0.25)
    assert len(q.take("b", 1)) == 1
    time.sleep(0.25)
    assert q.take("c", 1) == []
    [dead] = q.dead_tasks()
    assert dead["kind"] == DISCOVER and dead["site"] == "nld" and "not acked" in dead["reason"]
    assert q.drained()


def test_retry_waits_with_backoff_then_gives_up(redis_client: redis.Redis) -> None:
    q = _queue(redis_client, retry_base=0.2, max_attempts=2)
    q.add([Task(ARTICLE, "tuoitre", url="https://tuoitre.vn/x-1.htm")])
    [task] = q.take("w", 5)
    assert q.retry(task, "TimeoutError: took too long")
    assert q.depth()["delayed"] == 1 and q.depth()["pending"] == 0
    payload, due = redis_client.zrange(q.delayed, 0, 0, withscores=True)[0]
    assert due > time.time() and orjson.loads(payload)["attempt"] == "1"
    assert q.take("w", 5) == []  # not due yet
    time.sleep(0.25)
    [again] = q.take("w", 5)
    assert again.attempt == 1 and again.url == task.url
    assert not q.retry(again, "TimeoutError: again")  # second attempt of two: dead
    [dead] = q.dead_tasks()
    assert "gave up after 2 attempts" in dead["reason"] and q.drained()


def test_release_gives_tasks_back_at_once(redis_client: redis.Redis) -> None:
    q = _queue(redis_client, reclaim_idle=600)
    q.add([Task(ARTICLE, "dantri", url=f"https://dantri.com.vn/a-{i}.htm") for i in range(3)])
    taken = q.take("stopping", 10)
    assert q.release(taken) == 3
    back = q.take("next", 10)
    assert sorted(t.url for t in back) == sorted(t.url for t in taken)
    assert all(t.deliveries == 1 for t in back)


def test_article_tasks_are_enqueued_once_unless_forced(redis_client: redis.Redis) -> None:
    q = _queue(redis_client)
    pairs = [("id:1", "https://vnexpress.net/a-1.html"), ("id:2", "https://vnexpress.net/b-2.html")]
    assert q.enqueue_articles("vnexpress", pairs) == 2
    assert q.enqueue_articles("vnexpress", pairs) == 0  # a second discovery at the same time
    assert q.enqueue_articles("vnexpress", pairs[:1], force=True, fresh_after=time.time() + 1) == 1
    tasks = q.take("w", 10)
    assert [(t.url, t.force) for t in tasks] == [(pairs[0][1], False), (pairs[1][1], False), (pairs[0][1], True)]


def test_trim_keeps_pending_and_unread(redis_client: redis.Redis) -> None:
    q = _queue(redis_client, reclaim_idle=600)
    q.add([Task(DISCOVER, f"s{i}") for i in range(5)])
    taken = q.take("w", 3)
    q.ack([taken[0].entry, taken[2].entry])
    q.trim()
    left = [f[b"site"] for _e, f in redis_client.xrange(q.stream)]
    assert b"s1" in left and b"s3" in left and b"s4" in left  # pending, unread, unread


def test_heartbeat_does_not_steal_back_a_reclaimed_task(redis_client: redis.Redis) -> None:
    q = _queue(redis_client)
    q.discover("vnexpress")
    [task] = q.take("frozen", 5)
    time.sleep(0.25)
    assert [t.entry for t in q.take("other", 5)] == [task.entry]
    assert q.heartbeat("frozen", [task.entry]) == [task.entry]
    pending = redis_client.xpending_range(q.stream, "workers", min="-", max="+", count=10)
    assert [p["consumer"] for p in pending] == [b"other"]
