"""docker-compose.yml validates against the compose spec and has the promised shape."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def _check_jsonschema() -> str:
    venv_bin = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "check-jsonschema"
    found = str(venv_bin) if venv_bin.exists() else shutil.which("check-jsonschema")
    if not found:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    return found


def test_compose_file_matches_the_compose_spec() -> None:
    proc = subprocess.run([_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and "unknown" in (proc.stderr + proc.stdout).lower() and "schema" in proc.stderr.lower():
        pytest.skip(f"builtin compose-spec schema unavailable: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_services_and_redis_not_published() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert set(services) == {"redis", "scheduler", "worker"}
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    assert "ports" not in redis  # only reachable inside the compose network
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--requirepass" in command and "REDIS_PASSWORD" in command
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    assert redis["volumes"] == ["redis-data:/data"]
    for name, cmd in (("scheduler", ["schedule"]), ("worker", ["worker"])):
        svc = services[name]
        assert svc["command"] == cmd
        assert "ports" not in svc and "container_name" not in svc  # `--scale worker=4` needs both absent
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
        assert svc["healthcheck"]["test"][:3] == ["CMD", "newsdedup", "status"]
        url = svc["environment"]["REDIS_URL"]
        assert url.startswith("redis://:${REDIS_PASSWORD") and url.endswith("@redis:6379/0")
    assert services["worker"]["stop_signal"] == "SIGTERM"


def test_dockerfile_runs_the_cli() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["newsdedup"]' in text and 'CMD ["worker"]' in text
    assert "USER newsdedup" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored and ".newsdedup" in ignored
