"""One module per sub-command; each exposes `register(subparsers)`."""

from __future__ import annotations

from typing import Any

from newsdedup.commands import clean, consume, crawl, dedup_cmd, demo, status, unavailable


def register_all(sub: Any) -> None:
    for module in (clean, consume, crawl, dedup_cmd, demo, status):
        module.register(sub)
    unavailable.register(sub)
