"""Cleaning single files into documents (what `newsdedup clean` prints), without a crawl.

The same extraction and boilerplate rules as the crawl; the document gets version 1 and
is its own cluster (no index is consulted).
"""

from __future__ import annotations

from typing import Any

import xxhash

from crawler.documents import to_document
from crawler.extract import extract_article
from crawler.site_config import SiteConfig
from dedup.normalize import content_hash, normalize, to_nfc
from dedup.text_rules import clean_plain_text
from docqueue.document import validate_document


def _finish(doc: dict[str, Any]) -> dict[str, Any]:
    doc["content_hash"] = content_hash(normalize("\n\n".join(p for p in (doc["sapo"], doc["text"]) if p)))
    doc["version"] = 1
    doc["cluster"] = doc["id"]
    return validate_document(doc).model_dump(mode="json")


def clean_html(data: bytes, url: str | None = None, site: SiteConfig | None = None) -> dict[str, Any]:
    article = extract_article(data, url=url, site=site)
    site_name = article.site or (site.name if site else "")
    address = url or article.canonical_url or ""
    if not site_name:
        from urllib.parse import urlsplit

        site_name = (urlsplit(address).hostname or "").removeprefix("www.")
    doc = to_document(article, site_name or "unknown", address, article.site_article_id)
    return _finish(doc)


def clean_text(text: str, source: str = "") -> dict[str, Any]:
    cleaned = clean_plain_text(to_nfc(text))
    body = cleaned.text
    digest = xxhash.xxh3_64_hexdigest(body.encode("utf-8"))
    doc: dict[str, Any] = {
        "id": f"text:{digest}", "url": f"file://{source}" if source else "", "canonical_url": "",
        "site": "", "title": cleaned.title or "", "sapo": "", "text": body, "authors": [],
        "published": None, "updated": None, "category": "", "tags": [], "images": [], "language": "vi",
        "fetched_at": None, "removed_blocks": cleaned.removed_blocks,
    }
    return _finish(doc)
