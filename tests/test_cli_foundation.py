"""The CLI contract for the foundation: exit codes, one-line errors, consume, status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import redis

from docqueue.stream import DocumentQueue
from tests.cli_helpers import cli_env, run_cli


def doc(i: int) -> dict:
    return {"id": f"s:{i}", "url": "u", "canonical_url": "u", "site": "s", "title": "t", "text": "x"}


def test_consume_empty_queue_exits_0_without_output(redis_url: str) -> None:
    res = run_cli("consume", "--limit", "1", env=cli_env(redis_url=redis_url), timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""


def test_consume_prints_and_acks(redis_url: str, redis_client: redis.Redis) -> None:
    DocumentQueue(redis_client).publish([doc(i) for i in range(3)])
    res = run_cli("consume", "--limit", "2", "--group", "g", env=cli_env(redis_url=redis_url))
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert [d["id"] for d in lines] == ["s:0", "s:1"]
    res = run_cli("consume", "--group", "g", env=cli_env(redis_url=redis_url))
    assert [json.loads(x)["id"] for x in res.stdout.splitlines()] == ["s:2"]


def test_consume_follow_waits_for_new_documents(redis_url: str, redis_client: redis.Redis) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "consume", "--follow", "--limit", "1"],
                            env=cli_env(redis_url=redis_url), stdout=subprocess.PIPE, text=True)
    try:
        # the group appears once the follower is waiting; only then publish
        for _ in range(200):
            try:
                if redis_client.xinfo_groups("newsdedup:docs"):
                    break
            except redis.ResponseError:
                pass
            subprocess.run(["sleep", "0.05"], check=True)
        assert proc.poll() is None, "--follow must wait on an empty queue"
        DocumentQueue(redis_client).publish([doc(7)])
        out, _ = proc.communicate(timeout=30)
        assert json.loads(out)["id"] == "s:7"
        assert proc.returncode == 0
    finally:
        proc.kill()


def test_redis_down_is_exit_1_one_line(tmp_path: Path) -> None:
    from tests.conftest import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"
    res = run_cli("consume", "--limit", "1", env=cli_env(redis_url=url, NEWSDEDUP_REDIS_RETRIES="0",
                                                       NEWSDEDUP_REDIS_TIMEOUT="1"))
    assert res.returncode == 1
    assert url in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_bad_config_is_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("no_such_setting = 1\n")
    res = run_cli("--config", str(cfg), "status", env=cli_env(data_dir=tmp_path / "d"))
    assert res.returncode == 2
    assert "no_such_setting" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("status", env=cli_env(data_dir=tmp_path / "d", NEWSDEDUP_DEDUP_THRESHOLD="high"))
    assert res.returncode == 2 and "dedup_threshold" in res.stderr


def test_unknown_command_is_exit_2() -> None:
    res = run_cli("frobnicate", env=cli_env())
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_status_json_masks_secrets(redis_server) -> None:  # type: ignore[no-untyped-def]
    url = f"redis://:topsecret@127.0.0.1:{redis_server.port}/0"
    res = run_cli("status", "--json", env=cli_env(redis_url=url))
    assert "topsecret" not in res.stdout
    report = json.loads(res.stdout)
    assert report["settings"]["redis_url"].startswith("redis://:***@")


def test_embedded_redis_persists_across_processes(tmp_path: Path) -> None:
    env = cli_env(data_dir=tmp_path / "data")
    writer = ("from docqueue.settings import load_settings; from docqueue.redis_conn import connect;"
              "from docqueue.stream import DocumentQueue;"
              f"DocumentQueue(connect(load_settings())).publish([{doc(1)!r}])")
    subprocess.run([sys.executable, "-c", writer], env=env, check=True, cwd=Path(__file__).parent.parent)
    assert (tmp_path / "data" / "appendonly.aof").exists()
    assert not (tmp_path / "data" / "redis.sock").exists(), "the last user stops the embedded server"
    res = run_cli("consume", env=env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["id"] == "s:1"
    status = json.loads(run_cli("status", "--json", env=env).stdout)
    assert status["redis"]["ok"] and status["queue"]["length"] == 1
