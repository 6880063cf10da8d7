"""Run the `newsdedup` CLI in a subprocess with a clean, isolated environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_env(data_dir: Path | None = None, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEDUP_") and k != "REDIS_URL"}
    env["PYTHONPATH"] = str(ROOT)
    if data_dir is not None:
        env["NEWSDEDUP_DATA"] = str(data_dir)
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], input_text: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsdedup.cli", *args], env=env, input=input_text,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)
