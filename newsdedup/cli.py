"""`newsdedup` entry point: argument parsing and the exit-code contract.

Exit codes: 0 success, 1 runtime failure (e.g. Redis down), 2 bad usage or bad input —
always with a one-line reason on stderr and never a traceback for a user error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from docqueue.document import DocumentError
from docqueue.redis_conn import RedisUnavailable
from docqueue.settings import SettingsError
from newsdedup.errors import UsageError
from newsdedup.logging_setup import setup_logging


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
    setup_logging(args.verbose, args.config)  # text or JSON lines (log_format), see logging_setup
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
