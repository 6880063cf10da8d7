"""Article extraction: site YAML rules first, JSON-LD / meta fallbacks per field,
the generic extractor when the body is implausible.

Order matters: images and captions are read before the DOM ``remove:`` rules run (so
photo credits become captions, not body text), the body is read after them, and the
text-level related-block stripper from :mod:`dedup.text_rules` runs last, so both
layers' counts add up in ``removed_blocks``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from crawler.extract.charset import decode_html
from crawler.extract.dates import parse_vn_datetime
from crawler.extract.jsonld import JsonLd, read_jsonld
from crawler.extract.rules import Page, block_paragraphs, clean_text, has_text, node_text, remove_nodes
from crawler.site_config import ExtractRules, SiteConfig, site_for_url
from dedup.text_rules import strip_related_blocks

FIELDS = ("title", "sapo", "body", "authors", "published", "updated", "category", "tags", "images")
# Never article text, on any site; removing them is not counted as boilerplate.
ALWAYS_REMOVE = ["script", "style", "noscript", "template", "iframe", "svg", "button", "form", "ins", "zone",
                 "video", "audio", "object", "embed", ".adsbygoogle", ".advertisement", ".ads"]
GENERIC_SAPO_PREFIX = re.compile(
    r"^\s*(?:\(\s*[^()]{2,30}?\s*\)\s*[-–—:]|(?:TTO|NLĐO|PLO|SGGPO|GDVN|ANTĐO|CAND|VOV\.VN|VTV\.vn|"
    r"VTC News|Zing|Znews|VnExpress|Dân trí)\s*[-–—:])\s*"
)
_IMG_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-srcset", "src")
MIN_PARAGRAPHS = 2


@dataclass
class ExtractedArticle:
    """One article as read from one page; ``missing`` lists fields the rules failed on."""

    url: str | None = None
    canonical_url: str | None = None
    site: str | None = None
    site_article_id: str | None = None
    title: str = ""
    sapo: str = ""
    paragraphs: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    updated: datetime | None = None
    category: str = ""
    tags: list[str] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    language: str = "vi"
    removed_blocks: int = 0
    used_fallback: bool = False
    missing: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Body paragraphs joined by blank lines (the document's ``text`` field)."""
        return "\n\n".join(self.paragraphs)


def extract_article(
    html: str | bytes,
    url: str | None = None,
    site: SiteConfig | None = None,
    headers: Mapping[str, Any] | None = None,
) -> ExtractedArticle:
    """Extract one article; never raises on bad pages (the outcome shows in used_fallback / missing)."""
    raw: bytes | None = None
    if isinstance(html, bytes | bytearray):
        text, codec = decode_html(bytes(html), headers)
        raw = bytes(html) if codec == "utf-8" and text else None
    else:
        text = html
    page = Page(text or "<html></html>", raw)
    canonical = _absolute(page.link_href("canonical") or page.meta_first("og:url"), url)
    if site is None:
        site = site_for_url(url) or site_for_url(canonical)
    rules = site.extract if site else ExtractRules()
    ld = read_jsonld(page)
    art = ExtractedArticle(url=url, canonical_url=canonical or url, site=site.name if site else None)
    base = canonical or url
    if site:
        art.site_article_id = site.article_id(canonical) if canonical else None
        art.site_article_id = art.site_article_id or (site.article_id(url) if url else None)
    failed: set[str] = set()

    def pick(name: str, rule_list: list[str], *fallbacks: Callable[[], str]) -> str:
        value = page.first(rule_list) if rule_list else ""
        if rule_list and not value:
            failed.add(name)
        for fallback in fallbacks:  # lazy: most pages never need them
            value = value or fallback()
        return value

    art.title = pick("title", rules.title, lambda: ld.headline,
                     lambda: page.meta_first("og:title", "twitter:title"),
                     lambda: page.first(["h1"]), lambda: _title_tag(page, site))
    art.sapo = _strip_prefix(pick("sapo", rules.sapo, lambda: ld.description,
                                  lambda: page.meta_first("og:description", "description")), rules.sapo_prefix)
    art.authors = _authors(page, rules, ld, site, failed)
    art.published = _date(page, rules.published, rules, failed, "published",
                          ("article:published_time", "datepublished", "pubdate", "og:published_time",
                           "publishdate", "dc.date.issued"), ld.published)
    art.updated = _date(page, rules.updated, rules, failed, "updated",
                        ("article:modified_time", "datemodified", "lastmod", "og:updated_time"), ld.modified)
    art.category = pick("category", rules.category, lambda: _last_crumb(ld, art.title),
                        lambda: page.meta_first("article:section"), lambda: ld.section.split(",")[-1].strip())
    art.tags = _tags(page, rules, ld, failed)
    art.language = page.lang() or (site.language if site else "") or "vi"

    body = _body_node(page, rules.body)
    if rules.body and body is None:
        failed.add("body")
    if body is not None:
        art.images = _images(page, body, rules, base)
        # remove: rules act inside the body: everything outside it is never read as text.
        art.removed_blocks += remove_nodes(page, rules.remove, body)
        remove_nodes(page, [*ALWAYS_REMOVE, rules.images], body)
        paragraphs = page.values(rules.paragraphs, body) if rules.paragraphs else block_paragraphs(body)
        art.paragraphs = _clean_body(paragraphs, art, rules)
    if not art.images:
        art.images = [{"url": _absolute(u, base), "caption": ""} for u in ld.images[:1] if u]
    if site is None or len(art.paragraphs) < MIN_PARAGRAPHS:
        _fallback(art, text, url or canonical, rules)
    kept, count = strip_related_blocks(art.paragraphs)
    art.paragraphs, art.removed_blocks = kept, art.removed_blocks + count
    art.missing = _missing(art, rules, failed)
    return art


def _absolute(href: str | None, base: str | None) -> str:
    href = (href or "").strip()
    if not href or href.startswith("data:"):
        return ""
    return urljoin(base, href) if base else href


def _title_tag(page: Page, site: SiteConfig | None) -> str:
    node = page.tree.css_first("title")
    title = node_text(node) if node is not None else ""
    if site and title:  # "Headline - VnExpress" → "Headline"
        parts = re.split(r"\s+[-|–]\s+", title)
        if len(parts) > 1 and site.display_name.lower() in parts[-1].lower():
            title = " - ".join(parts[:-1])
    return title


def _strip_prefix(text: str, patterns: list[str]) -> str:
    for pattern in patterns:
        text = re.sub(pattern, "", text, count=1)
    return GENERIC_SAPO_PREFIX.sub("", text, count=1).strip()


def _site_like(name: str, site: SiteConfig | None) -> bool:
    """A byline that is really the publication ("TUOI TRE ONLINE", "VnExpress", "NLD.COM.VN")."""
    key = _fold(name)
    if not key or "." in name or name.startswith("http"):
        return True
    if site is None:
        return False
    names = [_fold(site.display_name), _fold(site.name)] + [_fold(d.split(".")[0]) for d in site.domains]
    return any(n and (n in key or key in n) for n in names)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


def _authors(page: Page, rules: ExtractRules, ld: JsonLd, site: SiteConfig | None, failed: set[str]) -> list[str]:
    found = page.all_of_first(rules.authors) if rules.authors else []
    if rules.authors and not found:
        failed.add("authors")
    if not found:
        found = ld.authors or [
            v for key in ("article:author", "dable:author", "author") for v in page.meta.get(key, [])
        ]
    names: list[str] = []
    for value in found:
        for part in re.split(rules.split_authors, value):
            name = re.sub(r"\s*\((?:tổng hợp|theo .*|lược dịch|biên dịch)\)\s*$", "", part, flags=re.I)
            name = clean_text(name).strip(" -–—:")
            if name and len(name) <= 60 and not _site_like(name, site) and name.lower() not in map(str.lower, names):
                names.append(name)
    return names


def _date(page: Page, rule_list: list[str], rules: ExtractRules, failed: set[str], name: str,
          meta_keys: tuple[str, ...], ld_value: str) -> datetime | None:
    for rule in rule_list:
        for value in page.values(rule):
            dt = parse_vn_datetime(value, rules.date_formats, rules.month_first)
            if dt:
                return dt
    if rule_list:
        failed.add(name)
    candidates = [page.meta_first(k) for k in meta_keys] + [ld_value]
    if name == "published":
        candidates += page.values("time::attr(datetime)")[:1]
    for value in candidates:
        dt = parse_vn_datetime(value, use_dateparser=False) if value else None
        if dt:
            return dt
    return None


def _last_crumb(ld: JsonLd, title: str) -> str:
    crumbs = [c for c in ld.breadcrumb if c != title and c.lower() not in ("trang chủ", "home")]
    return crumbs[-1] if crumbs else ""


def _tags(page: Page, rules: ExtractRules, ld: JsonLd, failed: set[str]) -> list[str]:
    found = page.all_of_first(rules.tags) if rules.tags else []
    if rules.tags and not found:
        failed.add("tags")
    if not found:
        found = page.meta.get("article:tag") or page.meta.get("news_keywords") or page.meta.get("keywords") or ld.keywords
    tags: list[str] = []
    for value in found:
        for tag in value.split(","):
            tag = clean_text(tag)
            if tag and tag.lower() not in map(str.lower, tags):
                tags.append(tag)
    return tags


def _body_node(page: Page, selectors: list[str]) -> Any:
    for selector in selectors or ["[itemprop=articleBody]", "article"]:
        for node in page.css(selector):
            if has_text(node):
                return node
    return None


def _images(page: Page, body: Any, rules: ExtractRules, base: str | None) -> list[dict[str, str]]:
    images: list[dict[str, str]] = []
    for item in page.css(rules.images, body):
        img = item if item.tag == "img" else item.css_first("img")
        url = ""
        if img is not None:
            for attr in _IMG_ATTRS:
                url = _absolute((img.attributes.get(attr) or "").split(" ")[0], base)
                if url:
                    break
        caption_nodes = page.css(rules.image_caption, item)
        caption = node_text(caption_nodes[0]) if caption_nodes else ""
        if url or caption:
            images.append({"url": url, "caption": caption})
    return images


def _clean_body(paragraphs: list[str], art: ExtractedArticle, rules: ExtractRules) -> list[str]:
    """Paragraph-level cleanup: remove_text rules, sapo repeated in the body, sapo prefix, byline."""
    out = []
    patterns = [re.compile(p, re.I) for p in rules.remove_text]
    for p in paragraphs:
        if any(pat.search(p) for pat in patterns):
            art.removed_blocks += 1
            continue
        out.append(p)
    if out:
        out[0] = _strip_prefix(out[0], rules.sapo_prefix)
        if not out[0] or (art.sapo and out[0] == art.sapo):
            out.pop(0)
    lowered = {a.lower() for a in art.authors}
    while out and re.sub(r"\s*\(.*\)\s*$", "", out[-1]).strip().lower() in lowered:
        out.pop()
    return out


def _fallback(art: ExtractedArticle, text: str, url: str | None, rules: ExtractRules) -> None:
    """Generic extractor for the body (and any metadata the rules could not find)."""
    from crawler.generic_extract import extract_generic

    try:
        generic = extract_generic(text, url)
    except Exception:  # the fallback must never turn a bad page into a crash
        return
    art.used_fallback = True
    paragraphs = [clean_text(p) for p in generic.paragraphs if clean_text(p)]
    if len(paragraphs) > len(art.paragraphs):
        art.paragraphs = _clean_body(paragraphs, art, rules)
    art.title = art.title or clean_text(generic.title)
    art.published = art.published or generic.published
    art.authors = art.authors or [clean_text(a) for a in generic.authors if clean_text(a)]
    art.sapo = art.sapo or clean_text(getattr(generic, "sapo", "") or "")
    art.category = art.category or clean_text(getattr(generic, "category", "") or "")
    art.tags = art.tags or list(getattr(generic, "tags", []) or [])


def _missing(art: ExtractedArticle, rules: ExtractRules, failed: set[str]) -> list[str]:
    values = {"title": art.title, "sapo": art.sapo, "body": art.paragraphs, "authors": art.authors,
              "published": art.published, "updated": art.updated, "category": art.category,
              "tags": art.tags, "images": art.images}
    return [f for f in FIELDS if f in failed or not values[f]]
