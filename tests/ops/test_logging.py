"""Structured logs: one JSON object per line with the caller's extra fields; text stays the default."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from newsdedup.logging_setup import JsonFormatter
from tests.cli_helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ("import logging; from newsdedup.logging_setup import setup_logging; setup_logging();"
          "logging.getLogger('x').warning('hello %s', 'world', extra={'site': 'vnexpress'});"
          "logging.getLogger('x').info('quiet unless log_level is set')")


def test_json_formatter_keeps_extras_and_tracebacks() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("crawler.health", logging.WARNING, __file__, 1, "site %s bad", ("a",),
                                   sys.exc_info())
    record.site = "a"
    record.url = object()  # not JSON-able: written as its str()
    out = json.loads(JsonFormatter().format(record))
    assert out["msg"] == "site a bad" and out["level"] == "WARNING" and out["logger"] == "crawler.health"
    assert out["site"] == "a" and out["url"].startswith("<object")
    assert "ValueError: boom" in out["exc"] and out["ts"].endswith("Z")


def run(**env: str) -> list[str]:
    res = subprocess.run([sys.executable, "-c", SCRIPT], env={**cli_env(), **env}, cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    return res.stderr.splitlines()


def test_setup_logging_json_and_text() -> None:
    lines = run(NEWSDEDUP_LOG_FORMAT="json")
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["msg"] == "hello world" and rec["site"] == "vnexpress"
    text = run()
    assert len(text) == 1 and "WARNING x: hello world" in text[0]
    verbose = run(NEWSDEDUP_LOG_FORMAT="json", NEWSDEDUP_LOG_LEVEL="info")
    assert [json.loads(x)["level"] for x in verbose] == ["WARNING", "INFO"]
