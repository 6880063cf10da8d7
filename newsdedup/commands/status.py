"""`newsdedup status`: per-site activity and extraction health, queue backlog, index size, Redis.

Everything is read from Redis (no key scan), so it answers the same from any host. Exit 0
when Redis answers (even if a site is unhealthy: that is a finding, not a failure), else 1.
Body length is the **mean** over the last 24 h (`body_chars / articles` of the hourly
counters): a median would need every length stored.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import orjson
import redis

from docqueue.redis_conn import RedisUnavailable, connect, describe
from docqueue.stream import DocumentQueue
from newsdedup.commands.common import settings_from

WINDOW_HOURS = 24
LAST_24H = ("pages", "articles", "new", "duplicate", "new_version", "unchanged", "not_modified", "no_article",
            "too_old", "failures", "fallbacks", "removed_blocks")


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="sites (activity, health, schedule), queue depth, index, Redis")
    p.add_argument("--json", action="store_true", help="one JSON object for scripts")
    p.add_argument("--settings", action="store_true", help="also print the effective settings table")
    p.set_defaults(func=run)


def iso(epoch: float | int | None) -> str | None:
    if not epoch:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(epoch)))


def schedules(client: redis.Redis, prefix: str, sites: list[str]) -> dict[str, dict[str, Any]]:
    """Per site, what `newsdedup schedule` publishes in `<prefix>schedule:<site>` (fields `next_run_ts`,
    `trigger`); a site without that hash (no scheduler, or it stopped long ago) is "not scheduled"."""
    pipe = client.pipeline(transaction=False)
    for site in sites:
        pipe.hmget(f"{prefix}schedule:{site}", "next_run_ts", "trigger")
    out: dict[str, dict[str, Any]] = {}
    for site, (ts, trigger) in zip(sites, pipe.execute(), strict=True):
        try:
            out[site] = {"next_run": float(ts) if ts else None, "trigger": trigger.decode() if trigger else None}
        except ValueError:
            continue
    return out


def tasks_report(client: redis.Redis, prefix: str) -> dict[str, Any]:
    """The crawl task stream of `newsdedup worker` (empty when only `crawl` is used)."""
    stream = f"{prefix}tasks"
    out: dict[str, Any] = {"length": client.xlen(stream), "dead": client.xlen(f"{stream}:dead"),
                           "delayed": client.zcard(f"{stream}:delayed"), "groups": {}}
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:
        groups = []
    for g in groups:
        name = g["name"].decode() if isinstance(g["name"], bytes) else str(g["name"])
        out["groups"][name] = {"pending": int(g["pending"]), "lag": g.get("lag"), "consumers": int(g["consumers"])}
    return out


def site_report(client: redis.Redis, settings: Any, site: str, scheduled: dict[str, dict[str, Any]],
                now: float) -> dict[str, Any]:
    from crawler.crawl_stats import CrawlStats
    from crawler.health import HealthMonitor

    stats = CrawlStats(client, settings.key_prefix)
    totals = stats.totals(site)
    window = stats.last_hours(site, WINDOW_HOURS, now)
    health = HealthMonitor.from_settings(client, settings).assess(site, window)
    articles = window.get("articles", 0)
    return {
        "site": site,
        "last_run": iso(totals.get("last_run")),
        "last_article": iso(totals.get("last_article")),
        "next_run": iso(scheduled.get(site, {}).get("next_run")),
        "schedule": scheduled.get(site, {}).get("trigger"),
        "last_24h": {name: int(window.get(name, 0)) for name in LAST_24H},
        "missing_24h": {k[len("missing_"):]: v for k, v in sorted(window.items()) if k.startswith("missing_")},
        "body_chars_mean": round(window.get("body_chars", 0) / articles) if articles else None,
        "totals": {k: v for k, v in totals.items() if k not in ("last_run", "last_article")},
        "healthy": health.healthy,
        "health": health.as_dict(),
    }


def collect(settings: Any, now: float | None = None) -> dict[str, Any]:
    now = now or time.time()
    report: dict[str, Any] = {"generated_at": iso(now), "settings": settings.masked(),
                              "redis": {"target": describe(settings)}}
    try:
        client = connect(settings)
        info = client.info()
    except (RedisUnavailable, redis.RedisError) as exc:
        report["redis"].update(ok=False, error=str(exc))
        return report
    report["redis"].update(ok=True, version=info.get("redis_version"), used_memory=info.get("used_memory"),
                           used_memory_human=info.get("used_memory_human"), keys=client.dbsize())
    try:
        report["queue"] = DocumentQueue.from_settings(client, settings).depth()
    except redis.RedisError as exc:
        report["queue"] = {"error": str(exc)}
    report["index"] = index_report(client, settings)
    try:
        report["tasks"] = tasks_report(client, settings.key_prefix)
    except redis.RedisError as exc:
        report["tasks"] = {"error": str(exc)}
    report["sites"], report["sites_error"] = sites_report(client, settings, now)
    return report


def index_report(client: redis.Redis, settings: Any) -> dict[str, Any]:
    try:
        from dedup.redis_index import RedisIndex

        index = RedisIndex(client, prefix=settings.key_prefix, threshold=settings.dedup_threshold,
                           num_perm=settings.dedup_num_perm, window_seconds=settings.dedup_window_days * 86400)
        stats = index.stats()
        return {"docs_indexed": stats.get("docs_indexed"), "documents_seen": stats.get("documents_seen"),
                "bands": stats.get("bands"), "rows": stats.get("rows")}
    except (redis.RedisError, ValueError, ImportError) as exc:
        return {"error": str(exc)}


def sites_report(client: redis.Redis, settings: Any, now: float) -> tuple[list[dict[str, Any]], str | None]:
    from crawler.site_config import SiteRegistry

    try:
        names = sorted(SiteRegistry.load(settings.sites_dirs).sites)
    except Exception as exc:  # a broken site file must not hide the rest of the status
        return [], f"site registry: {exc}"
    try:
        scheduled = schedules(client, settings.key_prefix, names)
    except redis.RedisError:
        scheduled = {}
    return [site_report(client, settings, name, scheduled, now) for name in names], None


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    report = collect(settings)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        from newsdedup.commands.status_view import render

        render(report, show_settings=args.settings)
    return 0 if report["redis"].get("ok") else 1
