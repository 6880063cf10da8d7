"""The document queue: a Redis Stream with consumer groups, ack, reclaim and dead letters.

Delivery guarantee: **at least once**. An entry is acked only after the consumer's handler
returns; an entry left pending by a dead consumer is reclaimed (XAUTOCLAIM) after
`reclaim_idle` seconds; an entry delivered more than `max_deliveries` times moves to the
dead-letter stream with the reason. Consumers must be idempotent on (`id`, `version`).

Keys (prefix `newsdedup:` by default):
  <prefix>docs           stream, fields: id, version, doc (JSON)
  <prefix>docs:dead      stream of dead letters, fields: entry, group, deliveries, reason, doc
  <prefix>docs:versions  hash doc id -> highest version published (makes publishing idempotent)
  <prefix>docs:errors    hash "<group> <entry id>" -> last handler error (reason for dead letters)
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from docqueue.document import Document, validate_document

log = logging.getLogger(__name__)

# Publish a batch atomically: an entry is added only if its version is newer than the
# highest version already published for that document id (one HMGET and one HSET per batch).
_PUBLISH_LUA = """
local n = #ARGV / 3
local ids = {}
for i = 1, n do ids[i] = ARGV[3 * i - 2] end
local seen = redis.call('HMGET', KEYS[2], unpack(ids))
local newest = {}
local added = {}
local updates = {}
for i = 1, n do
  local id, version, doc = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
  local known = newest[id] or tonumber(seen[i] or '0') or 0
  if version > known then
    added[i] = redis.call('XADD', KEYS[1], '*', 'id', id, 'version', version, 'doc', doc)
    newest[id] = version
    updates[#updates + 1] = id
    updates[#updates + 1] = version
  else
    added[i] = false
  end
end
if #updates > 0 then redis.call('HSET', KEYS[2], unpack(updates)) end
return added
"""


@dataclass(frozen=True, slots=True)
class Message:
    """One delivered entry: the stream entry id and the decoded document."""

    entry_id: str
    doc: dict[str, Any]
    deliveries: int = 1


def default_consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class DocumentQueue:
    """Publish documents and hand them to consumer groups; see the module docstring."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "newsdedup:",
        max_deliveries: int = 5,
        reclaim_idle: float = 60.0,
        trim_above: int = 100_000,
    ) -> None:
        self.client = client
        self.stream = f"{prefix}docs"
        self.dead = f"{prefix}docs:dead"
        self.versions = f"{prefix}docs:versions"
        self.errors = f"{prefix}docs:errors"
        self.max_deliveries = max_deliveries
        self.reclaim_idle_ms = int(reclaim_idle * 1000)
        self.trim_above = trim_above
        self._publish = client.register_script(_PUBLISH_LUA)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Any) -> DocumentQueue:
        return cls(
            client,
            prefix=settings.key_prefix,
            max_deliveries=settings.queue_max_deliveries,
            reclaim_idle=settings.queue_reclaim_idle,
            trim_above=settings.queue_trim_above,
        )

    # ------------------------------------------------------------------ publishing
    def publish(self, docs: Iterable[Document | dict[str, Any]], batch: int = 100) -> list[str | None]:
        """Validate and append documents; returns entry ids (None: that (id, version) was already published)."""
        out: list[str | None] = []
        args: list[Any] = []
        for doc in docs:
            valid = validate_document(doc)
            args.extend((valid.id, valid.version, valid.to_json()))
            if len(args) >= 3 * batch:
                out.extend(self._run_publish(args))
                args = []
        if args:
            out.extend(self._run_publish(args))
        if self.trim_above and out:
            self.trim(only_above=self.trim_above)
        return out

    def _run_publish(self, args: list[Any]) -> list[str | None]:
        result = self._publish(keys=[self.stream, self.versions], args=args)
        return [r.decode() if isinstance(r, bytes) else None for r in result]

    # ------------------------------------------------------------------ consuming
    def ensure_group(self, group: str) -> None:
        """Create the group (reading from the stream's start) if it does not exist."""
        try:
            self.client.xgroup_create(self.stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(self, group: str, consumer: str, count: int = 100, block_ms: int | None = None) -> list[Message]:
        """Reclaimed entries first, then new ones; nothing is acked here."""
        self.ensure_group(group)
        messages = self._reclaim(group, consumer, count)
        if len(messages) < count:
            resp = self.client.xreadgroup(
                group, consumer, {self.stream: ">"}, count=count - len(messages),
                block=None if messages else block_ms,
            )
            for _stream, entries in resp or []:
                for entry_id, fields in entries:
                    messages.append(self._message(entry_id, fields, 1))
        return messages

    def _reclaim(self, group: str, consumer: str, count: int) -> list[Message]:
        _next, claimed, *_deleted = self.client.xautoclaim(
            self.stream, group, consumer, min_idle_time=self.reclaim_idle_ms, start_id="0-0", count=count
        )
        if not claimed:
            return []
        ids = [entry_id for entry_id, _ in claimed]
        counts = self._delivery_counts(group, ids)
        messages = []
        for entry_id, fields in claimed:
            eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            if fields is None:  # entry trimmed/deleted while pending: nothing to deliver
                self.client.xack(self.stream, group, eid)
                continue
            deliveries = counts.get(eid, 1)
            if deliveries > self.max_deliveries:
                self._dead_letter(group, eid, fields, deliveries)
                continue
            messages.append(self._message(eid, fields, deliveries))
        return messages

    def _delivery_counts(self, group: str, ids: list[Any]) -> dict[str, int]:
        out: dict[str, int] = {}
        lo, hi = min(ids, key=stream_id_key), max(ids, key=stream_id_key)
        for row in self.client.xpending_range(self.stream, group, min=lo, max=hi, count=len(ids) * 4 + 10):
            mid = row["message_id"]
            out[mid.decode() if isinstance(mid, bytes) else mid] = int(row["times_delivered"])
        return out

    def _dead_letter(self, group: str, entry_id: str, fields: dict[Any, Any], deliveries: int) -> None:
        reason = self.client.hget(self.errors, f"{group} {entry_id}") or b"not acked (consumer died or timed out)"
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.dead, {
            "entry": entry_id, "group": group, "deliveries": deliveries,
            "reason": reason, "doc": fields.get(b"doc", b""),
        })
        pipe.xack(self.stream, group, entry_id)
        pipe.hdel(self.errors, f"{group} {entry_id}")
        pipe.execute()
        log.warning("entry %s moved to %s after %d deliveries", entry_id, self.dead, deliveries)

    @staticmethod
    def _message(entry_id: Any, fields: dict[Any, Any], deliveries: int) -> Message:
        eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return Message(eid, orjson.loads(fields[b"doc"]), deliveries)

    def ack(self, group: str, entry_ids: Iterable[str]) -> int:
        ids = list(entry_ids)
        if not ids:
            return 0
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.stream, group, *ids)
        pipe.hdel(self.errors, *[f"{group} {i}" for i in ids])
        return int(pipe.execute()[0])

    def record_failure(self, group: str, entry_id: str, reason: str) -> None:
        """Remember why a handler failed; the entry stays pending and is retried after the idle time."""
        self.client.hset(self.errors, f"{group} {entry_id}", reason[:2000])

    def iterate(
        self,
        group: str,
        consumer: str | None = None,
        limit: int | None = None,
        follow: bool = False,
        batch: int = 100,
        block_ms: int = 1000,
    ) -> Iterator[Message]:
        """Yield messages; each is acked when the caller asks for the next one (after its work)."""
        consumer = consumer or default_consumer_name()
        delivered = 0
        while limit is None or delivered < limit:
            want = batch if limit is None else min(batch, limit - delivered)
            messages = self.read(group, consumer, count=want, block_ms=block_ms if follow else None)
            if not messages:
                if follow:
                    continue
                return
            for msg in messages:
                yield msg  # the caller's loop body runs here; an exception leaves the entry pending
                self.ack(group, [msg.entry_id])
                delivered += 1

    def handle(
        self,
        handler: Callable[[dict[str, Any]], Any],
        group: str,
        consumer: str | None = None,
        limit: int | None = None,
        follow: bool = False,
    ) -> int:
        """Call `handler(doc)` per message; ack on return, record the error and leave pending on raise."""
        consumer = consumer or default_consumer_name()
        done = 0
        while limit is None or done < limit:
            messages = self.read(group, consumer, count=100 if limit is None else min(100, limit - done),
                                 block_ms=1000 if follow else None)
            if not messages:
                if follow:
                    continue
                break
            for msg in messages:
                try:
                    handler(msg.doc)
                except Exception as exc:
                    self.record_failure(group, msg.entry_id, f"{type(exc).__name__}: {exc}")
                    log.warning("handler failed on %s (delivery %d): %s", msg.entry_id, msg.deliveries, exc)
                    continue
                self.ack(group, [msg.entry_id])
                done += 1
        return done

    # ------------------------------------------------------------------ housekeeping
    def trim(self, only_above: int = 0) -> int:
        """Drop entries that every group has read and acked; never an unread or pending one."""
        if only_above and self.client.xlen(self.stream) <= only_above:
            return 0
        try:
            groups = self.client.xinfo_groups(self.stream)
        except redis.ResponseError:
            return 0
        if not groups:
            return 0  # nobody has read anything yet: keep everything
        floor: tuple[int, int] | None = None
        for g in groups:
            last = stream_id_key(g["last-delivered-id"])
            candidate = (last[0], last[1] + 1)  # everything up to last-delivered has been read
            if int(g["pending"]):
                oldest = self.client.xpending(self.stream, g["name"])["min"]
                candidate = min(candidate, stream_id_key(oldest))
            floor = candidate if floor is None else min(floor, candidate)
        assert floor is not None
        return int(self.client.xtrim(self.stream, minid=f"{floor[0]}-{floor[1]}", approximate=False))

    def depth(self) -> dict[str, Any]:
        """Stream length, dead letters, and per group: lag (unread) and pending (unacked)."""
        info: dict[str, Any] = {"length": self.client.xlen(self.stream), "dead": self.client.xlen(self.dead),
                                "groups": {}}
        try:
            groups = self.client.xinfo_groups(self.stream)
        except redis.ResponseError:
            groups = []
        for g in groups:
            name = g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
            unread = g.get("lag")  # Redis >= 7: kept by the server
            if unread is None:  # Redis 6.2: count (bounded) what lies past the last delivered id
                last = stream_id_key(g["last-delivered-id"])
                unread = len(self.client.xrange(self.stream, min=f"({last[0]}-{last[1]}", max="+",
                                                count=100_001))
            info["groups"][name] = {"pending": int(g["pending"]), "unread": int(unread),
                                    "consumers": int(g["consumers"])}
        return info


def stream_id_key(entry_id: Any) -> tuple[int, int]:
    """A stream entry id ('ms-seq', str or bytes) as a sortable tuple."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def now_iso() -> str:
    """Current time, ISO-8601 with offset (for `fetched_at`)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
