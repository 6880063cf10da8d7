"""One module per sub-command; each exposes `register(subparsers)`."""

from __future__ import annotations

from typing import Any

from newsdedup.commands import (
    clean,
    consume,
    crawl,
    dedup_cmd,
    demo,
    recrawl,
    schedule,
    status,
    unavailable,
    worker,
)


def register_all(sub: Any) -> None:
    for module in (clean, consume, crawl, dedup_cmd, demo, recrawl, schedule, status, worker):
        module.register(sub)
    unavailable.register(sub)
