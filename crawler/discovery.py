"""Finding article URLs in feeds, sitemaps and listing pages (no fetching here)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

from parsel import Selector
from scrapy.utils.sitemap import Sitemap


def feed_links(body: bytes, base_url: str) -> list[str]:
    """Item links of an RSS 2.0 or Atom feed."""
    sel = Selector(body=body, type="xml")
    sel.remove_namespaces()
    links = sel.xpath("//item/link/text()").getall()
    links += sel.xpath("//item/guid[not(@isPermaLink='false')]/text()").getall()
    links += sel.xpath("//entry/link[not(@rel) or @rel='alternate']/@href").getall()
    return _absolute(links, base_url)


def sitemap_links(body: bytes, base_url: str) -> tuple[str, list[str]]:
    """('sitemapindex', child sitemaps) or ('urlset', page URLs); Google News sitemaps are urlsets."""
    try:
        sitemap = Sitemap(body)
    except Exception:  # lxml raises several types on garbage; an unreadable sitemap yields nothing
        return "urlset", []
    locs = [entry["loc"] for entry in sitemap if entry.get("loc")]
    kind = "sitemapindex" if sitemap.type == "sitemapindex" else "urlset"
    return kind, _absolute(locs, base_url)


def listing_links(body: bytes | str, base_url: str) -> list[str]:
    """Every <a href> of a listing page, absolute (the caller keeps the article URLs)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    sel = Selector(text=text)
    return _absolute(sel.css("a::attr(href)").getall(), base_url)


def _absolute(links: list[str], base_url: str) -> list[str]:
    return list(_clean(links, base_url))


def _clean(links: list[str], base_url: str) -> Iterator[str]:
    for link in links:
        link = link.strip()
        if not link or link.startswith(("javascript:", "mailto:", "#", "tel:")):
            continue
        yield urljoin(base_url, link)
