"""HTML and XML of the mirror: article pages in each site's real DOM (templates cut down from the
captured pages in shared/corpora/vn-pages), listing pages, RSS, sitemaps and robots.txt.

Rendering happens once the server knows each site's origin, so canonical URLs, og:url, JSON-LD and
links are absolute and point at the mirror, never at the real site.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from functools import cache
from importlib import resources
from xml.sax.saxutils import escape as xml_escape

from .content import CATEGORIES, SITE_LABELS, VN_TZ, MirrorArticle
from .sites import MirrorSite, slugify

PAGE_SIZE = 20
SITEMAP_CHUNK = 500
_WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_SAPO_PREFIX = {"dantri": "(Dân trí) - ", "nld": "(NLĐO)- "}
_TAG_PATH = {"dantri": "/tim-kiem/{slug}.htm", "tuoitre": "/{slug}.html", "vnexpress": "/chu-de/{slug}",
             "nld": "/{slug}.html"}


@cache
def fragments(site: str) -> dict[str, str]:
    """Named fragments of `templates/<site>.html` (sections start with `<!--@name-->`)."""
    text = resources.files(__package__).joinpath(f"templates/{site}.html").read_text(encoding="utf-8")
    parts = re.split(r"^<!--@(\w+)-->\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].rstrip("\n") for i in range(1, len(parts) - 1, 2)}


def fill(fragment: str, values: dict[str, str]) -> str:
    """Substitute `{{name}}`; values whose name ends in `_html` go in raw, the rest escaped."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name, "")
        return value if name.endswith("_html") else html.escape(value, quote=True)

    return _PLACEHOLDER.sub(one, fragment)


def published_text(site: str, when: datetime) -> tuple[str, str]:
    """(visible date, `datetime` attribute) in the site's own format."""
    when = when.astimezone(VN_TZ)
    weekday = _WEEKDAYS[when.weekday()]
    if site == "dantri":
        return f"{weekday}, {when:%d/%m/%Y - %H:%M}", f"{when:%Y-%m-%d %H:%M}"
    if site == "vnexpress":
        return f"{weekday}, {when.day}/{when.month}/{when.year}, {when:%H:%M} (GMT+7)", when.isoformat()
    return f"{when:%d/%m/%Y %H:%M} GMT+7", when.isoformat()


def teaser(article: MirrorArticle, words: int = 40) -> str:
    text = article.version.lead or (article.version.paragraphs[0] if article.version.paragraphs else "")
    split = text.split()
    return text if len(split) <= words else " ".join(split[:words]) + "..."


class SiteRenderer:
    """Renders one mirror site's pages for a known origin."""

    def __init__(self, site: MirrorSite, origin: str, origins: dict[str, str]) -> None:
        self.site = site
        self.origin = origin
        self.origins = origins
        self.frag = fragments(site.name)

    def url(self, article: MirrorArticle) -> str:
        return self.origins.get(article.site, self.origin) + article.path

    def image(self, article: MirrorArticle) -> str:
        return f"{self.origins.get(article.site, self.origin)}/images/{article.article_id}.jpg"

    def chrome(self) -> dict[str, str]:
        base = {"origin": self.origin}
        return {"header_html": fill(self.frag["header"], base), "footer_html": fill(self.frag["footer"], base)}

    def card(self, name: str, article: MirrorArticle) -> str:
        return fill(self.frag[name], {"url": self.url(article), "path": article.path, "title": article.version.title,
                                      "sapo": teaser(article, 30), "article_id": article.article_id,
                                      "image": self.image(article)})

    def tags(self, article: MirrorArticle) -> list[str]:
        if article.tags:
            return list(article.tags)
        return [article.category, " ".join(article.version.title.split()[:3]).strip(",:")]

    def body(self, article: MirrorArticle) -> str:
        version = article.version
        paras = [fill(self.frag["para"], {"text": p}) for p in version.paragraphs]
        if article.caption and paras:
            paras.insert(1, fill(self.frag["figure"], {"image": self.image(article), "caption": article.caption,
                                                       "article_id": article.article_id}))
        if article.related and len(paras) > 3:
            paras.insert(len(paras) // 2 + 1, self.card("inline_related", article.related[0]))
        if article.variant != "original" and article.related:
            paras.append(self.topic_block(article.related))
        if "author_line" in self.frag:
            paras.append(fill(self.frag["author_line"], {"author": article.author}))
        return "\n".join(paras)

    def topic_block(self, related: list[MirrorArticle]) -> str:
        """The "TIN CÙNG CHỦ ĐỀ" tail some pages carry inside the body (as in the seed text)."""
        items = []
        for other in related:
            items.append(f'<div class="news-item"><p class="news-label">Tin tức 1</p>'
                         f'<h4><a href="{html.escape(self.url(other))}">{html.escape(other.version.title)}</a></h4>'
                         f'<p class="news-sapo">{html.escape(teaser(other, 60))}</p></div>')
        return ('<div class="box-tin-cung-chu-de"><p class="box-title"><strong>TIN CÙNG CHỦ ĐỀ</strong></p>\n'
                + "\n".join(items) + "</div>")

    def jsonld(self, article: MirrorArticle, canonical: str, sapo: str) -> str:
        version = article.version
        news = {
            "@context": "http://schema.org", "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
            "headline": version.title, "description": sapo,
            "image": {"@type": "ImageObject", "url": self.image(article), "width": 1200, "height": 675},
            "datePublished": article.published.isoformat(), "dateModified": version.modified.isoformat(),
            "author": {"@type": "Person", "name": article.author},
            "publisher": {"@type": "Organization", "name": SITE_LABELS.get(self.site.name, self.site.name)},
            "articleSection": article.category,
        }
        crumbs = {"@context": "http://schema.org", "@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": 1, "item": {"@id": self.origin, "name": "Trang chủ"}},
            {"@type": "ListItem", "position": 2,
             "item": {"@id": f"{self.origin}/{article.section_slug}", "name": article.category}}]}
        blocks = (json.dumps(x, ensure_ascii=False).replace("</", "<\\/") for x in (news, crumbs))
        return "\n".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)

    def article_page(self, article: MirrorArticle, popular: list[MirrorArticle]) -> str:
        version = article.version
        canonical = self.url(article)
        sapo = _SAPO_PREFIX.get(self.site.name, "") + version.lead if version.lead else ""
        shown, attr = published_text(self.site.name, article.published)
        tags = self.tags(article)
        tag_html = "".join(
            fill(self.frag["tag"], {"url": self.origin + _TAG_PATH[self.site.name].format(slug=slugify(t)), "tag": t})
            for t in tags)
        values = {
            **self.chrome(), "origin": self.origin, "canonical": canonical, "path": article.path,
            "title": version.title, "sapo": sapo, "description": sapo or teaser(article),
            "keywords": ",".join(tags), "keywords_lower": ", ".join(t.lower() for t in tags),
            "image": self.image(article), "article_id": article.article_id,
            "category": article.category, "category_lower": article.category.lower(),
            "section_slug": article.section_slug, "author": article.author,
            "author_upper": article.author.upper(), "author_slug": slugify(article.author),
            "published_iso": article.published.isoformat(), "modified_iso": version.modified.isoformat(),
            "published_epoch": str(int(article.published.timestamp())),
            "published_text": shown, "published_attr": attr,
            "body_html": self.body(article), "tags_html": tag_html,
            "related_html": "\n".join(self.card("related_item", r) for r in article.related),
            "popular_html": "\n".join(self.card("popular_item", p) for p in popular if p is not article),
            "jsonld_html": self.jsonld(article, canonical, sapo),
        }
        return fill(self.frag["article"], values)

    def listing_page(self, path: str, items: list[MirrorArticle], next_path: str | None,
                     extra_links: Sequence[tuple[str, str]] = ()) -> str:
        slug = path.strip("/").split("/")[0].split(".")[0].split("-p")[0]
        title = {s: name for name, s in CATEGORIES}.get(slug, "Tin mới nhất")
        cards = [self.card("list_item", a) for a in items]
        cards += [fill(self.frag["list_item"], {"url": url, "path": url, "title": text, "sapo": text,
                                                "article_id": "0", "image": f"{self.origin}/images/0.jpg"})
                  for url, text in extra_links]
        values = {**self.chrome(), "origin": self.origin, "canonical": self.origin + path, "listing_title": title,
                  "items_html": "\n".join(cards),
                  "next_html": fill(self.frag["next"], {"url": self.origin + next_path}) if next_path else ""}
        return fill(self.frag["listing"], values)

    def rss(self, path: str, items: list[MirrorArticle], now: datetime) -> str:
        label = SITE_LABELS.get(self.site.name, self.site.name)
        entries = []
        for a in items:
            link = xml_escape(self.url(a))
            desc = f'<a href="{self.url(a)}"><img src="{self.image(a)}"></a></br>{html.escape(teaser(a))}'
            entries.append(
                f"<item><title>{xml_escape(a.version.title)}</title>"
                f"<description><![CDATA[ {desc} ]]></description>"
                f"<pubDate>{format_datetime(a.published)}</pubDate><link>{link}</link>"
                f'<guid isPermaLink="true">{link}</guid>'
                f'<enclosure type="image/jpeg" length="1200" url="{xml_escape(self.image(a))}"/></item>')
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>Tin mới nhất - {xml_escape(label)} RSS</title><description>{xml_escape(label)} RSS</description>"
                f"<pubDate>{format_datetime(now)}</pubDate><generator>{xml_escape(label)}</generator>"
                f"<link>{xml_escape(self.origin + path)}</link>" + "\n".join(entries) + "</channel></rss>")

    def sitemap_index(self, chunks: int, lastmod: datetime) -> str:
        locs = [f"{self.origin}/sitemaps/articles-{i + 1}.xml" for i in range(chunks)]
        locs.append(f"{self.origin}/sitemaps/news.xml")
        body = "".join(f"<sitemap><loc>{xml_escape(u)}</loc><lastmod>{lastmod.isoformat()}</lastmod></sitemap>"
                       for u in locs)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>')

    def urlset(self, items: list[MirrorArticle]) -> str:
        body = "".join(f"<url><loc>{xml_escape(self.url(a))}</loc><lastmod>{a.version.modified.isoformat()}</lastmod>"
                       "<changefreq>hourly</changefreq></url>" for a in items)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>')

    def news_sitemap(self, items: list[MirrorArticle]) -> str:
        label = xml_escape(SITE_LABELS.get(self.site.name, self.site.name))
        body = "".join(
            f"<url><loc>{xml_escape(self.url(a))}</loc><news:news><news:publication><news:name>{label}</news:name>"
            "<news:language>vi</news:language></news:publication>"
            f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
            f"<news:title>{xml_escape(a.version.title)}</news:title></news:news></url>" for a in items)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>')

    def robots(self) -> str:
        lines = ["User-agent: *", "Disallow: /private/", "Disallow: /print/", ""]
        lines += [f"Sitemap: {self.origin}{p}" for p in self.site.sitemaps]
        return "\n".join(lines) + "\n"

    def not_found(self) -> str:
        values = {**self.chrome(), "origin": self.origin, "canonical": self.origin + "/", "listing_title": "Không tìm thấy trang",
                  "items_html": "<p>Trang bạn tìm không tồn tại hoặc đã bị gỡ bỏ.</p>", "next_html": ""}
        return fill(self.frag["listing"], values)
