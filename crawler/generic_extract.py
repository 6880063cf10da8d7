"""Generic article extraction: the fallback when no site rule set fits a page.

Public entry point: :func:`extract_generic`. It never raises on bad input (empty,
non-HTML, truncated pages): it returns a :class:`GenericArticle` with empty fields.

The body comes from our own paragraph-density extractor (``crawler.generic.body``):
faster than trafilatura and more precise on news pages (see ``bench/quality.py``).
trafilatura (fast mode) is kept as a safety net for pages where density finds nothing.

Dates: ``published`` is always timezone-aware. When the page gives no UTC offset, the
time is read as Asia/Ho_Chi_Minh for ``.vn`` hosts (Vietnamese news publishes in local
time) and as UTC otherwise.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from crawler.generic.body import extract_body
from crawler.generic.meta import default_tz, extract_metadata, parse_date

__all__ = ["GenericArticle", "default_tz", "extract_generic", "parse_date"]

XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
MIN_BODY_CHARS = 200


@dataclass
class GenericArticle:
    """What the generic path recovers from one page; empty fields when unknown."""

    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    sapo: str = ""
    images: list[dict] = field(default_factory=list)
    language: str | None = None
    category: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Body paragraphs joined by blank lines (the document's ``text`` field)."""
        return "\n\n".join(self.paragraphs)


def parse_html(html: str | bytes) -> HtmlElement | None:
    """Forgiving parse; None when there is no element tree to speak of."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    html = XML_DECL.sub("", html, count=1)
    if "<" not in html:
        return None
    try:
        root = lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(remove_comments=True))
    except (etree.ParserError, ValueError, TypeError):
        return None
    return root if isinstance(root.tag, str) else None


def _trafilatura_body(html: str, url: str | None) -> list[str]:
    """Second opinion for pages where paragraph density finds too little prose."""
    with contextlib.suppress(Exception):
        import trafilatura

        text = trafilatura.extract(html, url=url, fast=True, include_comments=False) or ""
        return [line.strip() for line in text.split("\n") if line.strip()]
    return []


def _plausible(paragraphs: list[str]) -> bool:
    """A body has at least one sentence-sized paragraph; menus and link lists do not."""
    return any(len(p) >= 100 and " " in p for p in paragraphs) or (
        sum(len(p.split()) >= 8 for p in paragraphs) >= 3
    )


def extract_generic(html: str, url: str | None = None) -> GenericArticle:
    """Extract title, body paragraphs and metadata from any article page."""
    if not html:
        return GenericArticle()
    root = parse_html(html)
    if root is None:
        return GenericArticle()
    meta = extract_metadata(root, url)
    paragraphs = extract_body(root, lambda: parse_html(html))
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS:
        alt = _trafilatura_body(html, url)
        if _plausible(alt) and sum(map(len, alt)) > sum(map(len, paragraphs)):
            paragraphs = alt
    title = meta["title"]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    return GenericArticle(
        title=title,
        paragraphs=paragraphs,
        published=meta["published"],
        authors=meta["authors"],
        sapo=meta["sapo"],
        images=meta["images"],
        language=meta["language"],
        category=meta["category"],
        tags=meta["tags"],
    )
