"""The crawl task stream: what workers do, in Redis, acknowledged only once the outcome is durable.

A task is "discover site S" or "fetch article URL U of site S" (optionally forced). Workers read
through one consumer group; a task stays pending until acked, so a worker killed at any instant
loses nothing: after `reclaim_idle` seconds without a heartbeat its tasks are claimed by another
worker (XAUTOCLAIM). Transient failures are retried later (a delayed set with exponential
backoff); permanent ones, and tasks delivered too often, go to the dead-letter stream with a reason.

Keys (prefix `newsdedup:` by default; on Redis Cluster use a hash-tagged prefix):
  <prefix>tasks                 stream, fields: kind, site, url, force, attempt, origin, slot, created
  <prefix>tasks:dead            stream of dead tasks: the task's fields + reason, entry, deliveries
  <prefix>tasks:delayed         sorted set: task JSON -> due time (epoch seconds), retries waiting
  <prefix>tasks:enqueued:<site> sorted set: seen key -> when its article task was enqueued
                                (discoveries running at the same time enqueue an article once)
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson
import redis

from docqueue.stream import stream_id_key

log = logging.getLogger(__name__)

GROUP = "workers"
DISCOVER = "discover"
ARTICLE = "article"

# Article tasks from a discovery: enqueue each (site, seen key) at most once per window, atomically
# across workers, unless the marker is older than ARGV[2] (a forced task passes its creation time).
_ENQUEUE_ARTICLES = """
local now, cutoff, trim = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. trim)
local added = 0
for i = 7, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if not score or tonumber(score) < cutoff then
    redis.call('ZADD', KEYS[2], now, ARGV[i])
    redis.call('XADD', KEYS[1], '*', 'kind', 'article', 'site', ARGV[5], 'url', ARGV[i + 1],
               'force', ARGV[4], 'attempt', '0', 'origin', ARGV[6], 'slot', '', 'created', ARGV[1])
    added = added + 1
  end
end
return added
"""

# Move due retries from the delayed set into the stream (one worker wins each entry).
_PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, raw in ipairs(due) do
  local t = cjson.decode(raw)
  redis.call('XADD', KEYS[1], '*', 'kind', t.kind, 'site', t.site, 'url', t.url, 'force', t.force,
             'attempt', t.attempt, 'origin', t.origin, 'slot', t.slot, 'created', t.created)
  redis.call('ZREM', KEYS[2], raw)
end
return #due
"""


@dataclass(frozen=True, slots=True)
class Task:
    """One crawl task as stored in the stream (`entry` and `deliveries` only once read)."""

    kind: str
    site: str
    url: str = ""
    force: bool = False
    attempt: int = 0
    origin: str = ""
    slot: str = ""
    created: float = field(default_factory=time.time)
    entry: str = ""
    deliveries: int = 1

    def fields(self) -> dict[str, str]:
        return {"kind": self.kind, "site": self.site, "url": self.url, "force": "1" if self.force else "0",
                "attempt": str(self.attempt), "origin": self.origin, "slot": self.slot,
                "created": repr(self.created)}

    @classmethod
    def from_fields(cls, entry: str, raw: dict[Any, Any], deliveries: int = 1) -> Task:
        f = {_s(k): _s(v) for k, v in raw.items()}
        return cls(kind=f.get("kind", ""), site=f.get("site", ""), url=f.get("url", ""),
                   force=f.get("force") == "1", attempt=int(f.get("attempt") or 0), origin=f.get("origin", ""),
                   slot=f.get("slot", ""), created=float(f.get("created") or 0), entry=entry,
                   deliveries=deliveries)

    def describe(self) -> str:
        return f"{self.kind} {self.site}" + (f" {self.url}" if self.url else "")


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class TaskQueue:
    """Enqueue, take, heartbeat, ack, retry, release and dead-letter crawl tasks."""

    def __init__(self, client: redis.Redis, prefix: str = "newsdedup:", reclaim_idle: float = 60.0,
                 max_deliveries: int = 5, max_attempts: int = 5, retry_base: float = 10.0,
                 retry_cap: float = 900.0, enqueue_window: float = 3600.0) -> None:
        self.client = client
        self.prefix = prefix
        self.stream = f"{prefix}tasks"
        self.dead = f"{prefix}tasks:dead"
        self.delayed = f"{prefix}tasks:delayed"
        self.reclaim_idle_ms = max(1, int(reclaim_idle * 1000))
        self.max_deliveries = max_deliveries
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.enqueue_window = enqueue_window
        self.reclaimed = 0  # tasks of silent workers taken over by this process
        self._enqueue_articles = client.register_script(_ENQUEUE_ARTICLES)
        self._promote = client.register_script(_PROMOTE)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Any, **overrides: Any) -> TaskQueue:
        values: dict[str, Any] = {"reclaim_idle": settings.queue_reclaim_idle,
                                  "max_deliveries": settings.queue_max_deliveries,
                                  "max_attempts": settings.queue_max_deliveries}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(client, prefix=settings.key_prefix, **values)

    def enqueued_key(self, site: str) -> str:
        return f"{self.prefix}tasks:enqueued:{site}"

    # ------------------------------------------------------------------ producing
    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def add(self, tasks: Iterable[Task]) -> list[str]:
        """Append tasks as they are (no de-duplication); returns their entry ids."""
        self.ensure_group()
        pipe = self.client.pipeline(transaction=False)
        for task in tasks:
            pipe.xadd(self.stream, task.fields())
        return [_s(e) for e in pipe.execute()]

    def discover(self, site: str, force: bool = False, origin: str = "manual") -> str:
        return self.add([Task(DISCOVER, site, force=force, origin=origin)])[0]

    def enqueue_articles(self, site: str, articles: Sequence[tuple[str, str]], force: bool = False,
                         origin: str = "discovery", fresh_after: float | None = None) -> int:
        """Article tasks for (seen key, url) pairs not enqueued within the window; returns how many.

        `fresh_after` (epoch): a marker older than this does not block (a forced re-discovery
        passes its own creation time, so it refetches everything once)."""
        if not articles:
            return 0
        now = time.time()
        cutoff = now - self.enqueue_window if fresh_after is None else fresh_after
        args: list[Any] = [repr(now), repr(cutoff), repr(now - self.enqueue_window), "1" if force else "0",
                           site, origin]
        for key, url in articles:
            args.extend((key, url))
        return int(self._enqueue_articles(keys=[self.stream, self.enqueued_key(site)], args=args))

    # ------------------------------------------------------------------ consuming
    def take(self, consumer: str, count: int) -> list[Task]:
        """Due retries promoted, then tasks of dead workers reclaimed, then new tasks; none acked."""
        if count <= 0:
            return []
        self.promote()
        try:
            tasks = self._reclaim(consumer, count)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self.ensure_group()  # first use, or a Redis that lost its data
            tasks = []
        if len(tasks) < count:
            resp = self.client.xreadgroup(GROUP, consumer, {self.stream: ">"}, count=count - len(tasks))
            for _stream, entries in resp or []:
                tasks.extend(Task.from_fields(_s(eid), f) for eid, f in entries if f)
        return tasks

    def promote(self, limit: int = 500) -> int:
        return int(self._promote(keys=[self.stream, self.delayed], args=[repr(time.time()), limit]))

    def _reclaim(self, consumer: str, count: int) -> list[Task]:
        _next, claimed, *_ = self.client.xautoclaim(self.stream, GROUP, consumer,
                                                    min_idle_time=self.reclaim_idle_ms, start_id="0-0",
                                                    count=count)
        if not claimed:
            return []
        counts = self._deliveries([eid for eid, _ in claimed])
        out = []
        for eid, fields in claimed:
            entry = _s(eid)
            if not fields:  # trimmed while pending
                self.client.xack(self.stream, GROUP, entry)
                continue
            task = Task.from_fields(entry, fields, counts.get(entry, 2))
            if task.deliveries > self.max_deliveries:
                self.dead_letter(task, f"not acked after {task.deliveries - 1} deliveries "
                                       "(worker died or timed out each time)")
                continue
            log.info("reclaimed %s (delivery %d)", task.describe(), task.deliveries)
            out.append(task)
        self.reclaimed += len(out)
        return out

    def _deliveries(self, ids: list[Any]) -> dict[str, int]:
        lo, hi = min(ids, key=stream_id_key), max(ids, key=stream_id_key)
        rows = self.client.xpending_range(self.stream, GROUP, min=lo, max=hi, count=len(ids) * 4 + 10)
        return {_s(r["message_id"]): int(r["times_delivered"]) for r in rows}

    def heartbeat(self, consumer: str, entries: Sequence[str]) -> list[str]:
        """Reset the idle time of tasks this worker still owns (JUSTID: no delivery counted); returns
        the entries another worker has taken over meanwhile (this one was silent too long)."""
        if not entries:
            return []
        lo, hi = min(entries, key=stream_id_key), max(entries, key=stream_id_key)
        rows = self.client.xpending_range(self.stream, GROUP, min=lo, max=hi, count=len(entries) * 4 + 100,
                                          consumername=consumer)
        mine = {_s(r["message_id"]) for r in rows}
        owned = [e for e in entries if e in mine]
        if owned:
            self.client.xclaim(self.stream, GROUP, consumer, 0, owned, justid=True)
        return [e for e in entries if e not in mine]

    def ack(self, entries: Iterable[str]) -> int:
        ids = list(dict.fromkeys(entries))
        return int(self.client.xack(self.stream, GROUP, *ids)) if ids else 0

    def retry(self, task: Task, reason: str) -> bool:
        """Transient failure: re-run later with exponential backoff, or dead-letter after max attempts."""
        if task.attempt + 1 >= self.max_attempts:
            self.dead_letter(task, f"gave up after {task.attempt + 1} attempts: {reason}")
            return False
        delay = min(self.retry_cap, self.retry_base * 2 ** task.attempt) * random.uniform(0.75, 1.0)
        again = replace(task, attempt=task.attempt + 1)
        payload = orjson.dumps({**again.fields(), "nonce": f"{task.entry}"})
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(self.delayed, {payload: time.time() + delay})
        pipe.xack(self.stream, GROUP, task.entry)
        pipe.execute()
        log.info("retry %s in %.1fs (attempt %d): %s", task.describe(), delay, again.attempt + 1, reason)
        return True

    def release(self, tasks: Iterable[Task]) -> int:
        """Give unfinished tasks back at once (graceful stop): re-added and acked in one transaction."""
        pipe = self.client.pipeline(transaction=True)
        n = 0
        for task in tasks:
            pipe.xadd(self.stream, task.fields())
            pipe.xack(self.stream, GROUP, task.entry)
            n += 1
        if n:
            pipe.execute()
        return n

    def dead_letter(self, task: Task, reason: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.dead, {**task.fields(), "reason": reason[:2000], "entry": task.entry,
                              "deliveries": str(task.deliveries)})
        pipe.xack(self.stream, GROUP, task.entry)
        pipe.execute()
        log.warning("task %s dead: %s", task.describe(), reason)

    # ------------------------------------------------------------------ housekeeping
    def depth(self) -> dict[str, int]:
        """Undelivered and pending tasks, retries waiting, dead letters."""
        out = {"length": 0, "undelivered": 0, "pending": 0, "delayed": int(self.client.zcard(self.delayed)),
               "dead": int(self.client.xlen(self.dead)), "consumers": 0}
        try:
            stream = self.client.xinfo_stream(self.stream)
            groups = self.client.xinfo_groups(self.stream)
        except redis.ResponseError:
            return out
        out["length"] = int(stream["length"])
        for g in groups:
            if _s(g["name"]) != GROUP:
                continue
            out["pending"] = int(g["pending"])
            out["consumers"] = int(g["consumers"])
            last = stream_id_key(g["last-delivered-id"])
            if stream_id_key(stream["last-generated-id"]) > last:
                out["undelivered"] = len(self.client.xrange(self.stream, min=f"({last[0]}-{last[1]}", max="+",
                                                            count=100_000))
        return out

    def drained(self) -> bool:
        """Nothing left to do anywhere: no undelivered, pending or delayed task."""
        d = self.depth()
        return d["undelivered"] == 0 and d["pending"] == 0 and d["delayed"] == 0

    def trim(self) -> int:
        """Drop entries the group has read and acked (never a pending or unread one)."""
        try:
            groups = [g for g in self.client.xinfo_groups(self.stream) if _s(g["name"]) == GROUP]
        except redis.ResponseError:
            return 0
        if not groups:
            return 0
        last = stream_id_key(groups[0]["last-delivered-id"])
        floor = (last[0], last[1] + 1)
        if int(groups[0]["pending"]):
            floor = min(floor, stream_id_key(self.client.xpending(self.stream, GROUP)["min"]))
        return int(self.client.xtrim(self.stream, minid=f"{floor[0]}-{floor[1]}", approximate=True))

    def forget_idle_consumers(self, idle_seconds: float = 86400.0) -> int:
        """Remove consumers with nothing pending that have been silent for a day (old worker names)."""
        try:
            consumers = self.client.xinfo_consumers(self.stream, GROUP)
        except redis.ResponseError:
            return 0
        gone = 0
        for c in consumers:
            if int(c["pending"]) == 0 and int(c["idle"]) > idle_seconds * 1000:
                self.client.xgroup_delconsumer(self.stream, GROUP, _s(c["name"]))
                gone += 1
        return gone

    def dead_tasks(self, count: int = 100) -> list[dict[str, str]]:
        return [{_s(k): _s(v) for k, v in f.items()} | {"dead_entry": _s(e)}
                for e, f in self.client.xrevrange(self.dead, count=count)]


def task_dict(task: Task) -> dict[str, Any]:
    return asdict(task)
