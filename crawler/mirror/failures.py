"""Broken responses for crawler robustness tests: each must give a logged, counted outcome while
the crawl goes on. Served on every mirror site under `/_bad/<kind>` and under article-like URLs
(so a crawler that only follows article links still reaches them when they are linked).
"""

from __future__ import annotations

import threading
import unicodedata
import zlib
from datetime import datetime

from .sites import MirrorSite

KINDS = ("truncated", "cp1258", "empty", "not-found", "server-error", "slow", "huge", "huge-chunked",
         "gzip-bomb", "redirect-loop", "redirect-private", "no-article")
PRIVATE_REDIRECT = "http://169.254.169.254/latest/meta-data/"
_VOWEL_MARKS = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve, horn: precomposed in cp1258
_bomb_lock = threading.Lock()
_bomb_cache: dict[int, bytes] = {}


def failure_paths(site: MirrorSite) -> dict[str, str]:
    """kind -> an article-like path of `site` (matches its article_url) serving that failure."""
    out = {}
    for i, kind in enumerate(KINDS):
        when = datetime(2020, 1, 1, 0, i, 0)
        path, _ = site.article_path(f"kiem-thu-loi-{kind}", when, 990_000 + i, "kiem-thu")
        out[kind] = path
    return out


def to_cp1258(text: str) -> bytes:
    """Windows-1258 bytes: precomposed base vowels plus combining tone marks, as old CMSes wrote it."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], list(parts[1:])
        for mark in [m for m in marks if m in _VOWEL_MARKS][:1]:
            base = unicodedata.normalize("NFC", base + mark)
            marks.remove(mark)
        out += (base + "".join(marks)).encode("cp1258", errors="replace")
    return bytes(out)


def gzip_bomb(size: int) -> bytes:
    """`size` bytes of HTML-ish padding gzipped (about 1000:1), built once per size."""
    with _bomb_lock:
        if size not in _bomb_cache:
            comp = zlib.compressobj(9, zlib.DEFLATED, 31)
            block = b"<p>" + b" " * (1 << 20) + b"</p>"
            chunks = [comp.compress(b"<!DOCTYPE html><html><body>")]
            written = 0
            while written < size:
                chunks.append(comp.compress(block))
                written += len(block)
            chunks.append(comp.compress(b"</body></html>") + comp.flush())
            _bomb_cache[size] = b"".join(chunks)
        return _bomb_cache[size]


def cp1258_page(title: str, paragraphs: list[str]) -> bytes:
    """A page that says utf-8 in its meta (and the server's header) but is Windows-1258 bytes."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><article class="fck_detail"><h1 class="title-detail">{title}</h1>{body}</article></body></html>')
    return to_cp1258(page)


def truncated_page(full: bytes) -> bytes:
    """The first 40 % of a real article page: the connection dropped mid-body."""
    return full[: max(1, len(full) * 2 // 5)]


def no_article_page(origin: str) -> bytes:
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Đăng nhập</title></head><body>'
            f'<nav><a href="{origin}/">Trang chủ</a></nav><form action="/login"><input name="user">'
            '<button>Đăng nhập</button></form></body></html>').encode()


def gunzip_size(data: bytes) -> int:
    """Decompressed size, for tests (streamed, never all in memory)."""
    dec = zlib.decompressobj(31)
    total = 0
    for i in range(0, len(data), 65536):
        total += len(dec.decompress(data[i : i + 65536], 1 << 20))
        while dec.unconsumed_tail:
            total += len(dec.decompress(dec.unconsumed_tail, 1 << 20))
    return total

