"""`newsdedup clean PATH ...`: one cleaned document (JSON line) per HTML or text file, in order.

HTML (.html/.htm, optionally .gz) goes through site rules (chosen by --site, --url, or the
page's canonical / og:url) with the generic extractor as fallback; .txt goes through the
text-level boilerplate rules, its first line being the title when it reads as a headline.
All paths are checked before any output, so a bad path fails fast with exit 2.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path
from typing import Any

import orjson

from newsdedup.errors import UsageError

HTML_SUFFIXES = (".html", ".htm")


def register(sub: Any) -> None:
    p = sub.add_parser("clean", help="clean HTML or text files into documents (JSON line per PATH)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--url", help="the page's address (only with one PATH)")
    p.add_argument("--site", help="use this site's rules")
    p.set_defaults(func=run)


def kind_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(HTML_SUFFIXES):
        return "html"
    if name.endswith(".txt"):
        return "text"
    raise UsageError(f"{path}: unsupported file type (expected .html, .htm, .txt, optionally .gz)")


def read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.name.lower().endswith(".gz") else data
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from crawler.clean_files import clean_html, clean_text
    from crawler.site_config import SiteConfigError, SiteRegistry

    paths = [Path(p) for p in args.paths]
    if args.url and len(paths) > 1:
        raise UsageError("--url goes with exactly one PATH")
    for path in paths:
        kind_of(path)
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    site = None
    if args.site:
        try:
            registry = SiteRegistry.load()
        except SiteConfigError as exc:
            raise UsageError(str(exc)) from None
        if args.site not in registry.sites:
            raise UsageError(f"unknown site {args.site!r} (known: {', '.join(sorted(registry.sites))})")
        site = registry[args.site]
    out = sys.stdout.buffer
    for path in paths:
        data = read_bytes(path)
        if kind_of(path) == "html":
            doc = clean_html(data, url=args.url, site=site)
        else:
            doc = clean_text(data.decode("utf-8", "replace"), source=str(path.resolve()))
        out.write(orjson.dumps(doc) + b"\n")
    out.flush()
    return 0
