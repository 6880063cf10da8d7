"""Page metadata without site rules: JSON-LD first, then meta tags, then visible markup.

JSON-LD and Open Graph are what publishers maintain for search engines and social
cards, so they are the most reliable generic source; htmldate is the last resort for
the date because it is the slowest step.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ARTICLE_TYPES = ("article", "newsarticle", "blogposting", "reportagenewsarticle", "report", "webpage")
TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+»\s+")


def default_tz(url: str | None) -> tzinfo:
    """Zone assumed for naive times: Asia/Ho_Chi_Minh for .vn hosts, UTC otherwise."""
    host = (urlsplit(url).hostname or "") if url else ""
    return VN_TZ if host == "vn" or host.endswith(".vn") else UTC


def parse_date(value: Any, url: str | None) -> datetime | None:
    """ISO-8601-ish string → aware datetime; naive values get :func:`default_tz`."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # +0700 → +07:00
    dt: datetime | None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            import dateparser

            dt = dateparser.parse(value, settings={"PREFER_DAY_OF_MONTH": "first"})
        except Exception:
            dt = None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz(url))
    return dt


def _flatten(obj: Any) -> list[dict]:
    """All dict nodes of a JSON-LD blob (handles @graph and lists)."""
    found: list[dict] = []
    stack = [obj]
    while stack:
        cur = stack.pop()
        if isinstance(cur, list):
            stack.extend(cur)
        elif isinstance(cur, dict):
            found.append(cur)
            if "@graph" in cur:
                stack.append(cur["@graph"])
    return found


def json_ld_article(root: HtmlElement) -> dict:
    """The first Article-like JSON-LD object of the page, or {}."""
    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        with contextlib.suppress(ValueError, RecursionError):
            for node in _flatten(json.loads(script.text.strip().rstrip(";"))):
                kinds = node.get("@type", "")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(str(k).lower() in ARTICLE_TYPES for k in kinds) and (
                    node.get("headline") or node.get("datePublished") or node.get("articleBody")
                ):
                    return node
    return {}


def meta_tags(root: HtmlElement) -> dict[str, str]:
    """property/name/itemprop → content, first occurrence wins, keys lowercased."""
    found: dict[str, str] = {}
    for el in root.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop")
        value = el.get("content")
        if key and value and value.strip():
            found.setdefault(key.strip().lower(), value.strip())
    return found


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [p.strip() for p in re.split(r"\s*(?:,|;|\band\b|&)\s*", value) if p.strip()]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    return []


def _first_str(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and value:
        return _first_str(value[0])
    if isinstance(value, dict):
        return _first_str(value.get("url") or value.get("name") or "")
    return ""


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [i for i in items if not (i.lower() in seen or seen.add(i.lower()))]  # type: ignore[func-returns-value]


def extract_metadata(root: HtmlElement, url: str | None) -> dict[str, Any]:
    """title, published, authors, sapo, images, language, category, tags (call before cleaning)."""
    ld, meta = json_ld_article(root), meta_tags(root)
    h1 = next((" ".join(h.text_content().split()) for h in root.iter("h1")), "")
    title = _first_str(ld.get("headline")) or meta.get("og:title") or h1
    if not title:
        t = root.find(".//title")
        title = TITLE_SEPARATORS.split(" ".join((t.text_content() if t is not None else "").split()))[0]
    published = None
    for raw in (
        ld.get("datePublished"), meta.get("article:published_time"), meta.get("datepublished"),
        meta.get("pubdate"), meta.get("publishdate"), meta.get("date"), meta.get("dc.date.issued"),
        meta.get("og:published_time"), meta.get("article:modified_time"),
    ):  # fmt: skip
        published = parse_date(raw, url)
        if published:
            break
    if published is None:
        published = _visible_date(root, url)
    authors = _names(ld.get("author")) or _names(meta.get("author") or meta.get("article:author") or "")
    authors = [a for a in _dedupe(authors) if not a.startswith("http")]
    image = _first_str(ld.get("image")) or meta.get("og:image") or meta.get("twitter:image") or ""
    images = [{"url": urljoin(url or "", image), "caption": ""}] if image else []
    lang = root.get("lang") or _first_str(ld.get("inLanguage")) or meta.get("og:locale") or None
    category = _first_str(ld.get("articleSection")) or meta.get("article:section") or ""
    tags_raw = ld.get("keywords") or meta.get("news_keywords") or meta.get("keywords") or ""
    tag_list = tags_raw if isinstance(tags_raw, list) else str(tags_raw).split(",")
    tags = [t for t in root.xpath("//meta[@property='article:tag']/@content") if isinstance(t, str)]
    return {
        "title": " ".join(title.split()),
        "published": published,
        "authors": authors,
        "sapo": " ".join(
            (
                _first_str(ld.get("description"))
                or meta.get("og:description")
                or meta.get("description")
                or ""
            ).split()
        ),
        "images": images,
        "language": lang.split("-")[0].split("_")[0].lower() if lang else None,
        "category": category,
        "tags": _dedupe([t.strip() for t in [*tags, *map(str, tag_list)] if t.strip()]),
        "ld_body": ld.get("articleBody") if isinstance(ld.get("articleBody"), str) else "",
    }


def _visible_date(root: HtmlElement, url: str | None) -> datetime | None:
    """<time datetime> in the page, then htmldate's quick heuristics."""
    for el in root.iter("time"):
        dt = parse_date(el.get("datetime"), url)
        if dt:
            return dt
    try:
        from htmldate import find_date

        found = find_date(root, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except Exception:
        return None
    return parse_date(found, url) if found else None
