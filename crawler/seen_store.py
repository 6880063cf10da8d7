"""Which article URLs were already fetched, with their HTTP validators, in Redis with expiry.

Entries are keyed by the spider's `seen_key` (the site's article id, else the canonical URL).
The next run fetches only new articles (feeds and listings are always re-fetched); a forced
re-crawl sends the stored ETag / Last-Modified so an unchanged page costs a 304.

Keys: `<prefix>seen:<site>` sorted set url -> last fetch time (epoch seconds);
      `<prefix>validators:<site>` hash url -> JSON {"etag", "last_modified"}.
Entries older than the TTL are dropped by `expire()` (called at the start of each crawl).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import orjson
import redis


class SeenStore:
    def __init__(self, client: redis.Redis, prefix: str = "newsdedup:", ttl_seconds: float = 30 * 86400) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl_seconds

    def _seen_key(self, site: str) -> str:
        return f"{self.prefix}seen:{site}"

    def _validators_key(self, site: str) -> str:
        return f"{self.prefix}validators:{site}"

    def unseen(self, site: str, urls: Sequence[str], now: float | None = None) -> list[str]:
        """The urls not fetched within the TTL (order kept, duplicates dropped)."""
        unique = list(dict.fromkeys(urls))
        if not unique:
            return []
        cutoff = (now or time.time()) - self.ttl
        scores = self.client.zmscore(self._seen_key(site), unique)
        return [u for u, s in zip(unique, scores, strict=True) if s is None or float(s) < cutoff]

    def fetched_since(self, site: str, since: float) -> list[str]:
        """Article URLs fetched at or after `since` (for `recrawl --since`)."""
        return [u.decode() for u in self.client.zrangebyscore(self._seen_key(site), since, "+inf")]

    def mark(self, site: str, entries: Iterable[tuple[str, str | None, str | None]], now: float | None = None) -> None:
        """Record (url, etag, last_modified) as fetched now — call only once the outcome is durable."""
        stamp = now or time.time()
        pipe = self.client.pipeline(transaction=False)
        for url, etag, last_modified in entries:
            pipe.zadd(self._seen_key(site), {url: stamp})
            if etag or last_modified:
                pipe.hset(self._validators_key(site), url,
                          orjson.dumps({"etag": etag, "last_modified": last_modified}))
        pipe.execute()

    def validators(self, site: str, url: str) -> dict[str, str]:
        """Headers for a conditional GET of `url` (empty if none are stored)."""
        raw = self.client.hget(self._validators_key(site), url)
        if not raw:
            return {}
        data = orjson.loads(raw)
        headers = {}
        if data.get("etag"):
            headers["If-None-Match"] = data["etag"]
        if data.get("last_modified"):
            headers["If-Modified-Since"] = data["last_modified"]
        return headers

    def expire(self, site: str, now: float | None = None) -> int:
        """Forget URLs older than the TTL; returns how many."""
        cutoff = (now or time.time()) - self.ttl
        old = self.client.zrangebyscore(self._seen_key(site), "-inf", f"({cutoff}")
        if not old:
            return 0
        pipe = self.client.pipeline(transaction=False)
        pipe.zrem(self._seen_key(site), *old)
        pipe.hdel(self._validators_key(site), *old)
        pipe.execute()
        return len(old)
