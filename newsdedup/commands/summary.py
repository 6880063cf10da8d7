"""The end-of-crawl summary (rich table, or JSON for scripts)."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

COLUMNS = ("pages", "new", "duplicate", "new_version", "unchanged", "not_modified", "no_article", "refused",
           "failures")


LABELS = {"duplicate": "dups", "new_version": "new ver", "unchanged": "same", "not_modified": "304",
          "no_article": "no art", "failures": "failed"}


def summary_dict(summary: Any, sites: list[str]) -> dict[str, Any]:
    per_site = {s: {c: summary.per_site(s, c) for c in COLUMNS} for s in sites}
    return {
        "pages_fetched": summary.pages,
        "articles": summary.get("newsdedup/articles"),
        "new": summary.get("newsdedup/verdict/new"),
        "duplicates_dropped": summary.get("newsdedup/verdict/duplicate"),
        "new_versions": summary.get("newsdedup/verdict/new_version"),
        "unchanged": summary.get("newsdedup/verdict/unchanged"),
        "boilerplate_blocks_removed": summary.get("newsdedup/removed_blocks"),
        "documents_queued": summary.get("newsdedup/queued"),
        "refused_unsafe": summary.get("newsdedup/refused_unsafe_address"),
        "sites": per_site,
        "outcomes": outcomes(summary.stats),
    }


def outcomes(stats: dict[str, Any]) -> dict[str, int]:
    """Every non-article outcome Scrapy and the spider counted (nothing fails silently)."""
    out: dict[str, int] = {}
    for key, value in stats.items():
        if key.startswith("newsdedup/failure/"):
            out[key.rsplit("/", 1)[1]] = int(value)
        elif key.startswith("downloader/exception_type_count/"):
            out["exception:" + key.rsplit(".", 1)[-1]] = int(value)
        elif key in ("robotstxt/forbidden", "offsite/filtered", "dupefilter/filtered", "retry/max_reached",
                     "newsdedup/refused_unsafe_address", "newsdedup/limit_reached"):
            out[key.replace("/", "_")] = int(value)
    return out


def print_summary(summary: Any, sites: list[str], as_json: bool = False) -> dict[str, Any]:
    data = summary_dict(summary, sites)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(data) + b"\n")
        return data
    console = Console(stderr=True)
    table = Table(title="Crawl summary")
    table.add_column("site")
    for c in COLUMNS:
        table.add_column(LABELS.get(c, c), justify="right")
    for site, counts in data["sites"].items():
        table.add_row(site, *(str(counts[c]) for c in COLUMNS))
    console.print(table)
    console.print(
        f"pages fetched {data['pages_fetched']} · articles {data['articles']} · "
        f"duplicates dropped {data['duplicates_dropped']} · new versions {data['new_versions']} · "
        f"boilerplate blocks removed {data['boilerplate_blocks_removed']} · "
        f"documents queued {data['documents_queued']}"
    )
    return data
