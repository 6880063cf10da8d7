"""Distributed workers against a real Redis and the local mirror: a worker killed with -9 loses
nothing, Redis restarting mid-crawl loses nothing, SIGTERM hands unfinished tasks back."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable

import redis

from crawler.mirror import MirrorServer
from scheduler.tasks import TaskQueue
from tests.conftest import RedisServer
from tests.mirror_fixtures import make_mirror  # noqa: F401 - fixture
from tests.scheduler._helpers import (
    assert_mirror_crawled_once,
    mirror_env,
    pending_of,
    spawn,
    wait_for,
    worker_args,
)

FAST = ("--reclaim-idle", "2", "--retry-base", "0.5")


def _enqueue_discovery(client: redis.Redis, mirror: MirrorServer) -> None:
    queue = TaskQueue(client)
    for site in sorted(mirror.origins):
        queue.discover(site, origin="test")


def test_killed_worker_tasks_are_reclaimed(redis_url: str, redis_client: redis.Redis,
                                           make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    _enqueue_discovery(redis_client, mirror)
    victim = spawn(*worker_args(mirror, "victim", *FAST), env=env)
    survivor = spawn(*worker_args(mirror, "survivor", *FAST, "--exit-when-idle", "2"), env=env)
    try:
        wait_for(lambda: pending_of(redis_client, "victim") > 0 and redis_client.xlen("newsdedup:tasks") > 4,
                 what="the victim to hold tasks mid-crawl")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        held = pending_of(redis_client, "victim")
        _out, err = survivor.communicate(timeout=120)
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
    assert survivor.returncode == 0, err[-2000:]
    assert pending_of(redis_client, "victim") == 0
    reclaimed = re.search(r"(\d+) reclaimed", err)
    assert reclaimed, err[-1000:]
    if held:  # what the victim held when it died was taken over by the survivor
        assert int(reclaimed.group(1)) >= held, (held, err[-1000:])
    assert_mirror_crawled_once(redis_client, mirror, redis_url)


def test_redis_restart_mid_crawl(make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    server = RedisServer(appendonly=True)
    try:
        client = redis.Redis.from_url(server.url)
        mirror = make_mirror()
        env = mirror_env(server.url, mirror)
        _enqueue_discovery(client, mirror)
        workers = [spawn(*worker_args(mirror, f"w{i}", *FAST, "--exit-when-idle", "2"), env=env)
                   for i in range(2)]
        try:
            wait_for(lambda: client.xlen("newsdedup:docs") > 0, what="the first published documents")
            client.close()
            server.restart()
            client = redis.Redis.from_url(server.url)
            errs = [w.communicate(timeout=150)[1] for w in workers]
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
        for w, err in zip(workers, errs, strict=True):
            assert w.returncode == 0, err[-2000:]
        assert_mirror_crawled_once(client, mirror, server.url)
        client.close()
    finally:
        server.close()


def test_sigterm_hands_back_unfinished_tasks(redis_url: str, redis_client: redis.Redis,
                                             make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    _enqueue_discovery(redis_client, mirror)
    first = spawn(*worker_args(mirror, "first", "--reclaim-idle", "600", "--grace", "0"), env=env)
    try:
        wait_for(lambda: pending_of(redis_client, "first") > 0, what="the first worker to hold tasks")
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    # nothing left on the stopped worker: what it did not finish is back in the stream at once
    # (the reclaim idle of 600 s would otherwise keep it)
    assert pending_of(redis_client, "first") == 0
    second = spawn(*worker_args(mirror, "second", "--reclaim-idle", "600", "--exit-when-idle", "1"), env=env)
    try:
        _out, err = second.communicate(timeout=120)
    finally:
        if second.poll() is None:  # never leave a worker behind, even when the test fails
            second.kill()
    assert second.returncode == 0, err[-2000:]
    assert_mirror_crawled_once(redis_client, mirror, redis_url)
