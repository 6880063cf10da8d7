"""Manual re-crawl: which URLs may be fetched, what `--since` means, and the re-crawl spider.

A URL is accepted only if it belongs to a configured site (for a site moved to another origin by
`site_origins`, the origin's scheme, host and port must match). A URL outside every site is
refused, and so — with a more precise reason — is one whose host resolves to a private, loopback,
link-local or metadata address; redirects are checked again by `crawler.safety.PrivateAddressGuard`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
import redis
import scrapy
from scrapy import signals
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.safety import UnsafeAddress, check_url
from crawler.seen_store import SeenStore
from crawler.site_config import SiteConfig
from crawler.spider import NewsSpider, seen_key
from crawler.urls import canonical_url

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedURL(ValueError):
    """A re-crawl URL that will not be fetched (a usage error: exit 2)."""


def _netloc(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme)


def owning_site(url: str, sites: Sequence[SiteConfig], origins: dict[str, str]) -> SiteConfig | None:
    """The configured site `url` belongs to (origin-moved sites must match scheme, host and port)."""
    scheme, host, port = _netloc(url)
    for site in sites:
        if not site.owns_url(url):
            continue
        origin = origins.get(site.name)
        if origin and _netloc(origin)[1] == host and _netloc(origin) != (scheme, host, port):
            continue  # same host as the mirror/staging origin but another port or scheme
        return site
    return None


def check_recrawl_url(url: str, sites: Sequence[SiteConfig], origins: dict[str, str]) -> SiteConfig:
    """The site of `url`, or RefusedURL with a one-line reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedURL(f"refused {url}: not an http(s) URL")
    site = owning_site(url, sites, origins)
    if site is None:
        try:
            check_url(url, set())
        except UnsafeAddress as exc:
            raise RefusedURL(f"refused {exc} (private, loopback, link-local and metadata addresses "
                             "are never fetched unless they belong to a configured site)") from None
        raise RefusedURL(f"refused {url}: outside every configured site (add a site YAML for "
                         f"{parts.hostname})")
    try:
        check_url(url, set(site.domains))
    except UnsafeAddress as exc:  # pragma: no cover - a site's own domains are allowed by check_url
        raise RefusedURL(f"refused {exc}") from None
    return site


def since_targets(client: redis.Redis, prefix: str, seen: SeenStore, sites: Sequence[SiteConfig],
                  since: float) -> tuple[list[tuple[SiteConfig, str]], int]:
    """(site, url) of the articles fetched since `since`, and how many could not be mapped to a URL.

    The seen store keeps the site's article id (`id:…`) when URLs carry one; its URL is then taken
    from the documents published since then."""
    urls_by_doc: dict[str, str] = {}
    start = f"{int(since * 1000)}-0"
    for _entry, fields in client.xrange(f"{prefix}docs", min=start, max="+"):
        doc_id = fields.get(b"id", b"").decode()
        raw = fields.get(b"doc")
        if doc_id and raw:
            urls_by_doc[doc_id] = orjson.loads(raw).get("url", "")
    out: list[tuple[SiteConfig, str]] = []
    unmapped = 0
    for site in sites:
        for key in seen.fetched_since(site.name, since):
            if key.startswith("id:"):
                url = urls_by_doc.get(f"{site.name}:{key[3:]}")
                if not url:
                    unmapped += 1
                    continue
            else:
                url = key
            out.append((site, url))
    return out, unmapped


class RecrawlSpider(NewsSpider):
    """NewsSpider that records each URL's outcome; in `dry_run` it discovers but fetches no article."""

    name = "news-recrawl"

    def __init__(self, dry_run: bool = False, full_fetch: bool = False, progress: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dry_run = dry_run
        self.full_fetch = full_fetch
        self.progress = progress
        self.would_fetch: list[str] = []
        self.outcomes: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> RecrawlSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, RecrawlSpider)
        if spider.progress is not None:
            crawler.signals.connect(spider._advance, signal=signals.response_received)
        return spider

    def _advance(self, **_: Any) -> None:
        self.progress(1)

    def schedule_articles(self, site: SiteConfig, urls: list[str]) -> Iterator[scrapy.Request]:
        if self.dry_run:
            self.would_fetch.extend(urls)
            return iter(())
        return super().schedule_articles(site, urls)

    def _article_request(self, site: SiteConfig, url: str, forced: bool) -> scrapy.Request:
        request = super()._article_request(site, url, forced)
        if self.full_fetch:  # --force: the whole page again, even if the server would say 304
            for name in ("If-None-Match", "If-Modified-Since"):
                request.headers.pop(name, None)
        request.meta["target"] = url
        return request

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        for item in super().parse_article(response):
            self.outcomes[response.meta.get("target", response.url)] = item["status"]
            yield item

    def on_error(self, failure: Failure) -> None:
        super().on_error(failure)
        request = failure.request  # type: ignore[attr-defined]
        if request.meta.get("kind") == "article":
            from scheduler.worker import classify

            _permanent, reason = classify(failure)
            self.outcomes[request.meta.get("target", request.url)] = reason


def unique_targets(targets: Sequence[tuple[SiteConfig, str]]) -> list[tuple[SiteConfig, str]]:
    """Targets ordered and de-duplicated by their seen key (one fetch per article)."""
    out: dict[tuple[str, str], tuple[SiteConfig, str]] = {}
    for site, url in targets:
        out.setdefault((site.name, seen_key(site, canonical_url(url))), (site, canonical_url(url)))
    return list(out.values())
