"""JSON-LD reading: the site-independent source for title, dates, authors, section.

Most Vietnamese news sites embed schema.org NewsArticle and BreadcrumbList blocks,
which makes them the best fallback when a site's CSS rules rot. Some CMSs
double-escape entities inside JSON ("Chi&amp;#7871;n"), so strings are unescaped
until stable.
"""

from __future__ import annotations

import html as htmllib
import json
from dataclasses import dataclass, field
from typing import Any

from crawler.extract.rules import Page, clean_text

ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
                 "opinionnewsarticle", "backgroundnewsarticle", "liveblogposting", "webpage"}


def unescape_deep(text: str) -> str:
    """Unescape HTML entities repeatedly (double-escaped CMS output)."""
    for _ in range(3):
        new = htmllib.unescape(text)
        if new == text:
            break
        text = new
    return clean_text(text)


@dataclass
class JsonLd:
    """What the page's JSON-LD says about the article (empty fields when absent)."""

    headline: str = ""
    description: str = ""
    published: str = ""
    modified: str = ""
    authors: list[str] = field(default_factory=list)
    section: str = ""
    keywords: list[str] = field(default_factory=list)
    breadcrumb: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    url: str = ""


def _objects(data: Any) -> list[dict]:
    """Flatten @graph containers and lists into plain objects."""
    out: list[dict] = []
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[:0] = item
        elif isinstance(item, dict):
            out.append(item)
            if isinstance(item.get("@graph"), list):
                stack.extend(item["@graph"])
    return out


def _types(obj: dict) -> set[str]:
    t = obj.get("@type") or []
    return {str(x).lower() for x in ([t] if isinstance(t, str) else t)}


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id") or ""
    return unescape_deep(str(value)) if value else ""


def _names(value: Any) -> list[str]:
    """Person names from an author value; organisations are not bylines."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            if "organization" in _types(item) or "newsmediaorganization" in _types(item):
                continue
            name = _text(item.get("name"))
        else:
            name = _text(item)
        if name and not name.startswith("http"):
            out.append(name)
    return out


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [unescape_deep(p) for p in value.split(",") if p.strip()]
    if isinstance(value, list):
        return [t for t in (_text(v) for v in value) if t]
    return []


def read_jsonld(page: Page) -> JsonLd:
    """Parse every ld+json block; the first article-typed object wins."""
    result = JsonLd()
    article: dict | None = None
    for node in page.css('script[type="application/ld+json"]'):
        raw = node.text(deep=True, separator="", strip=True)
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        for obj in _objects(data):
            types = _types(obj)
            if "breadcrumblist" in types and not result.breadcrumb:
                result.breadcrumb = _breadcrumb(obj)
            elif types & ARTICLE_TYPES and (article is None or "webpage" in _types(article)):
                if "webpage" in types and not obj.get("datePublished"):
                    continue
                article = obj
    if article:
        result.headline = _text(article.get("headline") or article.get("name"))
        result.description = _text(article.get("description"))
        result.published = _text(article.get("datePublished"))
        result.modified = _text(article.get("dateModified"))
        result.authors = _names(article.get("author"))
        result.section = _text(article.get("articleSection"))
        result.keywords = _list(article.get("keywords"))
        result.url = _text(article.get("url"))
        image = article.get("image")
        for item in image if isinstance(image, list) else [image]:
            url = item.get("url") if isinstance(item, dict) else item
            if isinstance(url, str) and url:
                result.images.append(url)
    return result


def _breadcrumb(obj: dict) -> list[str]:
    items = obj.get("itemListElement") or []
    flat: list[dict] = []
    for item in items if isinstance(items, list) else [items]:
        flat.extend(x for x in (item if isinstance(item, list) else [item]) if isinstance(x, dict))
    flat.sort(key=lambda x: int(x.get("position") or 0) if str(x.get("position") or "0").isdigit() else 0)
    names = []
    for item in flat:
        name = _text(item.get("name")) or (_text(item["item"]) if isinstance(item.get("item"), dict) else "")
        if name:
            names.append(name)
    return names
