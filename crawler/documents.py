"""Turn an extracted article into the document dict of DESIGN.md (before dedup fills
content_hash, version and cluster)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crawler.urls import canonical_url, document_id


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with offset; naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.replace(microsecond=0).isoformat()


def to_document(article: Any, site_name: str, url: str, article_id: str | None) -> dict[str, Any]:
    """Build the publishable dict; `article` is crawler.extract's ExtractedArticle."""
    canonical = canonical_url(article.canonical_url or url)
    return {
        "id": document_id(site_name, article_id, canonical),
        "url": url,
        "canonical_url": canonical,
        "site": site_name,
        "title": article.title or "",
        "sapo": article.sapo or "",
        "text": "\n\n".join(p for p in article.paragraphs if p),
        "authors": list(article.authors or []),
        "published": iso(article.published),
        "updated": iso(article.updated),
        "category": article.category or "",
        "tags": list(article.tags or []),
        "images": [{"url": i["url"], "caption": i.get("caption") or ""} for i in (article.images or []) if i.get("url")],
        "language": article.language or "vi",
        "fetched_at": iso(datetime.now(UTC)),
        "removed_blocks": int(article.removed_blocks or 0),
    }
