"""One generic news spider, driven by site configs (no per-site code).

Discovery (feeds, sitemaps, listing pages) is always re-fetched; article URLs are
canonicalised, filtered through the seen-URL store and fetched once per TTL. Forced
re-fetches send the stored validators (conditional GET). Each article response becomes an
item `{"doc", "site", "url", "etag", "last_modified", "status"}` for the pipelines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.components import components
from crawler.discovery import feed_links, listing_links, sitemap_links
from crawler.documents import to_document
from crawler.extract import extract_article
from crawler.seen_store import SeenStore
from crawler.site_config import SiteConfig
from crawler.urls import canonical_url

log = logging.getLogger(__name__)

DISCOVERY_PRIORITY = 10  # feeds and listings before articles: they feed the queue


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        sites: Iterable[SiteConfig] = (),
        limit: int | None = None,
        since: float | None = None,
        urls: Iterable[tuple[SiteConfig, str]] = (),
        force: bool = False,
        discover: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sites = {s.name: s for s in sites}
        for site, _url in urls:
            self.sites.setdefault(site.name, site)
        self.limit = limit
        self.since = since
        self.force_urls = list(urls)
        self.force = force
        self.discover = discover
        self.scheduled: dict[str, set[str]] = {name: set() for name in self.sites}
        self.allowed_domains = sorted({d for s in self.sites.values() for d in s.domains})
        self.seen: SeenStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.seen = components(crawler).seen
        return spider

    # ------------------------------------------------------------------ start
    async def start(self) -> Any:  # Scrapy >= 2.13
        for request in self._start_requests():
            yield request

    def _start_requests(self) -> Iterator[scrapy.Request]:
        for site, url in self.force_urls:
            yield self._article_request(site, canonical_url(url), forced=True)
        if not self.discover:
            return
        for site in self.sites.values():
            if self.seen is not None:
                self.seen.expire(site.name)
            meta = {"site": site.name}
            for url in site.start.rss:
                yield self._discovery(url, self.parse_feed, meta)
            for url in site.start.sitemaps:
                yield self._discovery(url, self.parse_sitemap, meta)
            for listing in site.start.listings:
                for url in listing.page_urls():
                    yield self._discovery(url, self.parse_listing, meta)

    def _discovery(self, url: str, callback: Any, meta: dict[str, Any]) -> scrapy.Request:
        self.crawler.stats.inc_value("newsdedup/discovery_requests")
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta={**meta, "kind": "discovery"},
                              dont_filter=True, priority=DISCOVERY_PRIORITY)

    # ------------------------------------------------------------------ discovery
    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self._follow_articles(response, feed_links(response.body, response.url))

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        kind, links = sitemap_links(response.body, response.url)
        site = self.sites[response.meta["site"]]
        if kind == "sitemapindex":
            for url in links:
                if site.owns_url(url):
                    yield self._discovery(url, self.parse_sitemap, {"site": site.name})
            return
        yield from self._follow_articles(response, links)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not hasattr(response, "text"):
            return
        yield from self._follow_articles(response, listing_links(response.text, response.url))

    def _follow_articles(self, response: Response, links: list[str]) -> Iterator[scrapy.Request]:
        site = self.sites[response.meta["site"]]
        yield from self.schedule_articles(site, self.select_new_articles(site, links))

    def select_new_articles(self, site: SiteConfig, links: list[str]) -> list[str]:
        """Article URLs among `links` not yet scheduled in this run nor seen within the TTL, up to --limit."""
        articles = [canonical_url(u) for u in links if site.is_article_url(u)]
        scheduled = self.scheduled[site.name]
        fresh = [u for u in dict.fromkeys(articles) if seen_key(site, u) not in scheduled]
        if self.seen is not None and not self.force:
            by_key = {seen_key(site, u): u for u in fresh}
            fresh = [by_key[k] for k in self.seen.unseen(site.name, list(by_key))]
        out = []
        for url in fresh:
            if self.limit is not None and len(scheduled) >= self.limit:
                self.crawler.stats.inc_value("newsdedup/limit_reached")
                break
            scheduled.add(seen_key(site, url))
            out.append(url)
        return out

    def schedule_articles(self, site: SiteConfig, urls: list[str]) -> Iterator[scrapy.Request]:
        """Fetch the selected articles here; a distributed worker overrides this to enqueue tasks."""
        for url in urls:
            yield self._article_request(site, url, forced=self.force)

    def _article_request(self, site: SiteConfig, url: str, forced: bool) -> scrapy.Request:
        headers = self.seen.validators(site.name, seen_key(site, url)) if (forced and self.seen is not None) else {}
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, headers=headers,
                              meta={"site": site.name, "kind": "article"}, dont_filter=forced)

    # ------------------------------------------------------------------ articles
    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        site = self.sites[response.meta["site"]]
        stats = self.crawler.stats
        stats.inc_value(f"newsdedup/{site.name}/pages")
        validators = {
            "etag": _header(response, b"ETag"),
            "last_modified": _header(response, b"Last-Modified"),
        }
        requested = response.request.url if response.request is not None else response.url
        base = {"site": site.name, "seen_key": seen_key(site, requested), **validators}
        if response.status == 304:
            stats.inc_value(f"newsdedup/{site.name}/not_modified")
            yield {**base, "status": "not_modified", "doc": None}
            return
        headers = {k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        article = extract_article(response.body, url=response.url, site=site, headers=headers)
        if article.used_fallback:
            stats.inc_value(f"newsdedup/{site.name}/fallbacks")
        if not article.paragraphs or not article.title:
            stats.inc_value(f"newsdedup/{site.name}/no_article")
            yield {**base, "status": "no_article", "doc": None, "missing": list(article.missing)}
            return
        if self.since is not None and article.published is not None and article.published.timestamp() < self.since:
            stats.inc_value(f"newsdedup/{site.name}/too_old")
            yield {**base, "status": "too_old", "doc": None}
            return
        article_id = site.article_id(response.url) or site.article_id(requested)
        doc = to_document(article, site.name, requested, article_id)
        yield {**base, "status": "ok", "doc": doc, "missing": list(article.missing),
               "fallback": bool(article.used_fallback)}

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        site = request.meta.get("site", "?")
        kind = request.meta.get("kind", "?")
        error_type = failure.type.__name__ if failure.type else "Error"
        reason = failure.getErrorMessage() or error_type
        if failure.check(HttpError):  # 4xx/5xx after retries
            status = failure.value.response.status  # type: ignore[union-attr]
            self.crawler.stats.inc_value(f"newsdedup/{site}/failures")
            self.crawler.stats.inc_value(f"newsdedup/failure/http_{status}")
            log.warning("%s %s failed: HTTP %s", kind, request.url, status)
            return
        if failure.check(IgnoreRequest):  # robots.txt, unsafe address, redirect limit: a refusal
            self.crawler.stats.inc_value(f"newsdedup/{site}/refused")
            log.info("%s %s refused: %s", kind, request.url, reason)
            return
        self.crawler.stats.inc_value(f"newsdedup/{site}/failures")
        self.crawler.stats.inc_value(f"newsdedup/failure/{error_type}")
        log.warning("%s %s failed: %s", kind, request.url, reason.splitlines()[0] if reason else "")


def seen_key(site: SiteConfig, url: str) -> str:
    """What the seen-URL store remembers: the site's article id when the URL has one (the same
    article under another path or host is still seen), else the canonical URL."""
    article_id = site.article_id(url)
    return f"id:{article_id}" if article_id else canonical_url(url)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
