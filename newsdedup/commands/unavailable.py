"""Sub-commands whose implementation has not landed yet: they say so and exit 2."""

from __future__ import annotations

import argparse
import sys
from typing import Any

PENDING: dict[str, str] = {
    "crawl": "crawl the configured sites",
    "clean": "clean HTML or text files into documents",
    "dedup": "mark near-duplicates in a JSONL file",
    "demo": "crawl the bundled local mirror",
}


def register(sub: Any) -> None:
    existing = set(sub.choices)
    for name, help_text in PENDING.items():
        if name in existing:
            continue
        p = sub.add_parser(name, help=f"{help_text} (not yet available)")
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    print(f"newsdedup {args.command}: not yet available in this version", file=sys.stderr)
    return 2
