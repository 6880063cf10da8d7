"""Rich tables for `newsdedup status` (kept apart from data collection)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def render(report: dict[str, Any]) -> None:
    console = Console()
    redis_info = report["redis"]
    if redis_info.get("ok"):
        console.print(f"[green]Redis OK[/green] {redis_info['target']} (v{redis_info.get('version')}, "
                      f"{redis_info.get('keys')} keys, {redis_info.get('used_memory', 0) / 1e6:.1f} MB)")
    else:
        console.print(f"[red]Redis DOWN[/red] {redis_info.get('error')}")
    queue = report.get("queue")
    if queue and "length" in queue:
        table = Table(title="Document queue")
        for col in ("group", "unread", "pending", "consumers"):
            table.add_column(col)
        for name, g in queue["groups"].items():
            table.add_row(name, str(g["unread"]), str(g["pending"]), str(g["consumers"]))
        console.print(f"docs stream: {queue['length']} entries, {queue['dead']} dead letters")
        if queue["groups"]:
            console.print(table)
    settings = Table(title="Effective settings")
    settings.add_column("setting")
    settings.add_column("value")
    for key, value in report["settings"].items():
        settings.add_row(key, str(value))
    console.print(settings)
