"""Acceptance: `newsdedup status` after `newsdedup demo` — counters for every mirror site, and a
site whose rules no longer match its markup (a changed layout) turns red with reasons and an
example URL, while the crawl logs one structured warning for it.

The broken site is vnexpress with its YAML overridden (via `sites_dirs`) by selectors the
mirror's real vnexpress markup does not have: exactly what a redesign does to the rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from crawler.mirror.sites import MIRRORED
from tests.cli_helpers import cli_env, run_cli
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
BROKEN = "vnexpress"


def broken_rules(folder: Path) -> Path:
    text = (ROOT / "crawler" / "sites" / f"{BROKEN}.yaml").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith("  body:"):
            line = "  body: [div.layout-2030-body]"
        elif line.startswith("  title:"):
            line = "  title: [h1.layout-2030-title]"
        lines.append(line)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{BROKEN}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def after_demo(redis_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    redis.Redis.from_url(redis_server.url).flushall()
    sites_dir = broken_rules(tmp_path_factory.mktemp("broken-sites"))
    env = cli_env(redis_url=redis_server.url, NEWSDEDUP_SITES_DIRS=json.dumps([str(sites_dir)]),
                  NEWSDEDUP_LOG_FORMAT="json")
    demo = run_cli("demo", "--json", env=env, timeout=240)
    assert demo.returncode == 0, demo.stderr[-2000:]
    status = run_cli("status", "--json", env=env)
    text = run_cli("status", env={**env, "COLUMNS": "220"})
    yield {"demo": demo, "status": status, "report": json.loads(status.stdout), "text": text}
    redis.Redis.from_url(redis_server.url).flushall()


def sites(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["site"]: s for s in report["sites"]}


def test_every_mirror_site_has_counters(after_demo: dict[str, Any]) -> None:
    assert after_demo["status"].returncode == 0
    by_site = sites(after_demo["report"])
    for name in MIRRORED:
        s = by_site[name]
        w = s["last_24h"]
        assert w["pages"] > 0 and w["articles"] > 0, (name, w)
        assert w["new"] + w["duplicate"] + w["new_version"] + w["unchanged"] == w["articles"]
        assert s["last_run"] and s["last_article"]
        assert s["body_chars_mean"] and s["body_chars_mean"] > 100
    assert sum(by_site[n]["last_24h"]["duplicate"] for n in MIRRORED) > 0  # the mirror syndicates
    report = after_demo["report"]
    assert report["queue"]["length"] > 0 and report["queue"]["dead"] == 0
    assert report["index"]["docs_indexed"] > 0
    assert report["redis"]["used_memory"] > 0


def test_broken_site_is_red_with_reasons_and_example(after_demo: dict[str, Any]) -> None:
    by_site = sites(after_demo["report"])
    bad = by_site[BROKEN]
    assert bad["healthy"] is False
    assert {"body", "title"} <= set(bad["health"]["failing"])
    assert any("body rule missed" in r for r in bad["health"]["reasons"])
    example = bad["health"]["examples"]["body"][0]
    assert example.startswith("http://127.0.0.1:") and example.endswith(".html")
    for name in MIRRORED:
        if name != BROKEN:
            assert by_site[name]["healthy"] is True and by_site[name]["health"]["judged"], name
    text = after_demo["text"]
    assert text.returncode == 0
    assert "UNHEALTHY" in text.stdout and example in text.stdout
    red_line = next(line for line in text.stdout.splitlines() if "UNHEALTHY" in line)
    assert BROKEN in red_line and all(n not in red_line for n in MIRRORED if n != BROKEN)


def test_crawl_logged_one_structured_warning(after_demo: dict[str, Any]) -> None:
    records = []
    for line in after_demo["demo"].stderr.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    health = [r for r in records if r.get("event") == "extraction_health"]
    assert len(health) == 1, health
    assert health[0]["site"] == BROKEN and health[0]["level"] == "WARNING"
    assert health[0]["field"] in ("title", "body") and health[0]["example_url"].startswith("http://127.0.0.1:")


def test_status_exit_1_when_redis_is_down() -> None:
    res = run_cli("status", "--json", env=cli_env(redis_url=f"redis://127.0.0.1:{free_port()}/0",
                                                  NEWSDEDUP_REDIS_RETRIES="0", NEWSDEDUP_REDIS_TIMEOUT="0.5"))
    assert res.returncode == 1
    assert json.loads(res.stdout)["redis"]["ok"] is False
