"""`newsdedup dedup IN.jsonl`: one verdict line per input line, in input order.

Default: an in-memory index (nothing persists). With --redis, the shared Redis index, so
input documents are also matched against everything crawled before (and are added to it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from newsdedup.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser("dedup", help="mark near-duplicates in a JSONL file (one verdict line per input line)")
    p.add_argument("input", metavar="IN.jsonl", help="JSON lines with at least id and text ('-' for stdin)")
    p.add_argument("--out", metavar="OUT.jsonl", help="write verdicts here instead of stdout")
    p.add_argument("--threshold", type=float, help="estimated Jaccard for duplicates (default: setting)")
    p.add_argument("--redis", action="store_true", help="use (and add to) the shared Redis index")
    p.set_defaults(func=run)


def records(stream: BinaryIO, name: str) -> Iterator[Any]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            raise UsageError(f"{name}: line {number}: empty line (one JSON object per line expected)")
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"{name}: line {number}: not JSON: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from dedup.batch import dedup_records
    from dedup.index import DedupIndex
    from dedup.memory_index import MemoryIndex
    from dedup.minhash import MinHasher
    from newsdedup.commands.common import settings_from

    settings = settings_from(args)
    threshold = args.threshold if args.threshold is not None else settings.dedup_threshold
    if not 0.0 < threshold < 1.0:
        raise UsageError(f"--threshold must be between 0 and 1, got {threshold}")
    index: DedupIndex
    if args.redis:
        from dedup.redis_index import RedisIndex
        from docqueue.redis_conn import connect

        try:
            index = RedisIndex(connect(settings), prefix=settings.key_prefix, threshold=threshold,
                               num_perm=settings.dedup_num_perm, window_seconds=settings.dedup_window_days * 86400)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        index = MemoryIndex(threshold=threshold, num_perm=settings.dedup_num_perm)
    if args.input == "-":
        source: BinaryIO = sys.stdin.buffer
    else:
        try:
            source = Path(args.input).open("rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"{args.input}: {exc.strerror or exc}") from None
    out = Path(args.out).open("wb") if args.out else sys.stdout.buffer  # noqa: SIM115
    progress = _progress()
    try:
        for result in dedup_records(records(source, args.input), index, MinHasher(num_perm=settings.dedup_num_perm)):
            out.write(orjson.dumps(result) + b"\n")
            if progress is not None:
                progress.advance(progress.task_ids[0])
    except ValueError as exc:
        raise UsageError(f"{args.input}: {exc}") from None
    finally:
        if progress is not None:
            progress.stop()
        if source is not sys.stdin.buffer:
            source.close()
        if out is not sys.stdout.buffer:
            out.close()
        else:
            out.flush()
    return 0


def _progress() -> Any:
    """A rich progress counter on stderr when it is a terminal (scripts get clean stderr)."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(console=Console(stderr=True), transient=True)
    progress.add_task("dedup", total=None)
    progress.start()
    return progress
