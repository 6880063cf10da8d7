"""Rich tables for `newsdedup status` (kept apart from data collection).

An unhealthy site is a red row, with its reasons and an example URL under the table: the
view is meant to be glanced at, so the one thing to act on stands out.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _ago(stamp: str | None) -> str:
    return stamp.replace("T", " ").removesuffix("Z") if stamp else "never"


def _mb(value: Any) -> str:
    return f"{(value or 0) / 1e6:.1f} MB"


def sites_table(sites: list[dict[str, Any]]) -> Table:
    table = Table(title="Sites (last 24 h)")
    for col, justify in (("site", "left"), ("last run (UTC)", "left"), ("next run (UTC)", "left"),
                         ("pages", "right"), ("articles", "right"), ("new", "right"), ("dups", "right"),
                         ("new ver", "right"), ("failures", "right"), ("fallbacks", "right"),
                         ("body chars (mean)", "right"), ("health", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for s in sites:
        w = s["last_24h"]
        health = s["health"]
        if not s["healthy"]:
            verdict, style = "UNHEALTHY: " + ", ".join(health["failing"]), "bold red"
        elif health["judged"]:
            verdict, style = "ok", ""
        else:
            verdict, style = "too few pages" if health["pages"] else "-", "dim" if not w["pages"] else ""
        table.add_row(
            s["site"], _ago(s["last_run"]), _ago(s["next_run"]) if s["next_run"] else "not scheduled",
            str(w["pages"]), str(w["articles"]), str(w["new"]), str(w["duplicate"]), str(w["new_version"]),
            str(w["failures"]), str(w["fallbacks"]),
            str(s["body_chars_mean"]) if s["body_chars_mean"] is not None else "-",
            verdict, style=style,
        )
    return table


def queue_table(queue: dict[str, Any]) -> Table:
    table = Table(title=f"Document queue: {queue['length']} entries, {queue['dead']} dead letters")
    for col in ("group", "lag (unread)", "pending (unacked)", "consumers"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for name, g in queue["groups"].items():
        table.add_row(name, str(g["unread"]), str(g["pending"]), str(g["consumers"]))
    return table


def render(report: dict[str, Any], show_settings: bool = False, console: Console | None = None) -> None:
    console = console or Console()
    redis_info = report["redis"]
    if not redis_info.get("ok"):
        console.print(f"[red]Redis DOWN[/red] {redis_info['target']}: {redis_info.get('error')}")
        return
    console.print(f"[green]Redis OK[/green] {redis_info['target']} (v{redis_info.get('version')}, "
                  f"{redis_info.get('keys')} keys, {_mb(redis_info.get('used_memory'))} used)")
    sites = report.get("sites") or []
    if sites:
        console.print(sites_table(sites))
    if report.get("sites_error"):
        console.print(f"[red]{report['sites_error']}[/red]")
    for s in sites:
        if not s["healthy"]:
            for field in s["health"]["failing"]:
                examples = s["health"]["examples"].get(field) or []
                reason = next((r for r in s["health"]["reasons"] if field in r), field)
                console.print(f"[bold red]{s['site']}[/bold red]: {reason}"
                              + (f"\n    e.g. {examples[0]}" if examples else ""))
    index = report.get("index") or {}
    if "error" in index:
        console.print(f"dedup index: [red]{index['error']}[/red]")
    elif index:
        console.print(f"dedup index: {index.get('docs_indexed')} documents in the window "
                      f"({index.get('documents_seen')} seen; {index.get('bands')}x{index.get('rows')} bands)")
    queue = report.get("queue") or {}
    if "length" in queue and queue["groups"]:
        console.print(queue_table(queue))
    elif "length" in queue:
        console.print(f"document queue: {queue['length']} entries, {queue['dead']} dead letters, "
                      "no consumer group yet")
    elif "error" in queue:
        console.print(f"document queue: [red]{queue['error']}[/red]")
    tasks = report.get("tasks") or {}
    if tasks.get("length") or tasks.get("groups"):
        groups = ", ".join(f"{n}: lag {g['lag']}, pending {g['pending']}, {g['consumers']} workers"
                           for n, g in tasks["groups"].items())
        console.print(f"crawl tasks: {tasks['length']} entries, {tasks['delayed']} delayed retries, "
                      f"{tasks['dead']} dead" + (f" ({groups})" if groups else ""))
    if show_settings:
        table = Table(title="Effective settings")
        table.add_column("setting")
        table.add_column("value")
        for key, value in report["settings"].items():
            table.add_row(key, str(value))
        console.print(table)
