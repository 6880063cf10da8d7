"""Bytes → text for HTML pages: declared charset first, verified, with detection as fallback.

Vietnamese pages are UTF-8 nearly everywhere, but old CMSs still serve Windows-1258
(whose tone marks are *combining* characters, so such text is NFC-composed here),
and headers or meta tags sometimes lie (a page labelled ISO-8859-1 that is UTF-8).
Other pages are returned as decoded: NFC over a whole 500 KB page costs ~25 ms, so the
extractor composes only the strings it keeps.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Mapping

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
# Labels that decode any byte string, so "it decoded" proves nothing.
_PERMISSIVE = {"latin-1", "iso8859-1", "cp1252", "ascii", "cp1258", "iso8859-15"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(label: str | None) -> str | None:
    """Normalised Python codec name for a charset label, None when unknown."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None


def header_charset(headers: Mapping[str, object] | None) -> str | None:
    """Charset from a Content-Type header (any key case; str or bytes values)."""
    if not headers:
        return None
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() != "content-type":
            continue
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        v = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        m = _HEADER_CHARSET.search(v)
        return _codec(m.group(1)) if m else None
    return None


def meta_charset(data: bytes) -> str | None:
    """Charset declared by <meta charset> / http-equiv in the first 8 KB."""
    m = _META_CHARSET.search(data[:8192])
    return _codec(m.group(1).decode("ascii", "ignore")) if m else None


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _nfc(text: str, codec: str) -> str:
    return unicodedata.normalize("NFC", text) if codec in ("cp1258", "utf-16") else text


def decode_html(data: bytes, headers: Mapping[str, object] | None = None) -> tuple[str, str]:
    """Decode page bytes; returns (text, codec used). Windows-1258 text comes back NFC."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _nfc(data.decode(codec, "replace"), codec), codec
    declared = [c for c in (header_charset(headers), meta_charset(data)) if c]
    for codec in declared:
        if codec in _PERMISSIVE and codec != "cp1258":
            # A single-byte label on bytes that are valid, non-ASCII UTF-8 is a mislabel.
            text = _try(data, "utf-8")
            if text is not None and not data.isascii():
                return text, "utf-8"
        text = _try(data, codec)
        if text is not None:
            return _nfc(text, codec), codec
    text = _try(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = from_bytes(data[:200_000], cp_isolation=["cp1258", "cp1252", "utf_8", "utf_16", "gb18030"]).best()
    detected = _codec(best.encoding) if best else None
    codec = detected or (declared[0] if declared else "cp1258")
    return _nfc(data.decode(codec, "replace"), codec), codec
