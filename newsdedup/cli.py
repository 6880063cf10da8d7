"""`newsdedup` entry point: argument parsing and the exit-code contract.

Exit codes: 0 success, 1 runtime failure (e.g. Redis down), 2 bad usage or bad input —
always with a one-line reason on stderr and never a traceback for a user error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from docqueue.document import DocumentError
from docqueue.redis_conn import RedisUnavailable
from docqueue.settings import SettingsError


class UsageError(ValueError):
    """Bad arguments or input detected by a command (exit 2)."""


class CliParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # one line, exit 2 (argparse prints the whole usage otherwise)
        print(f"newsdedup: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> CliParser:
    from newsdedup.commands import register_all

    parser = CliParser(prog="newsdedup", description="News scraping and near-duplicate removal.")
    parser.add_argument("--config", help="settings file (TOML or YAML); default $NEWSDEDUP_CONFIG")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CliParser)
    register_all(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except (SettingsError, UsageError, DocumentError) as exc:
        print(f"newsdedup {args.command}: {exc}", file=sys.stderr)
        return 2
    except RedisUnavailable as exc:
        print(f"newsdedup {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"newsdedup {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
