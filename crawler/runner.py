"""Run a crawl in this process: Scrapy settings from our Settings, collaborators wired in.

Politeness is on by default: robots.txt, AutoThrottle, per-domain concurrency, an honest
User-Agent with a contact URL, timeouts, retries, size limits (decompression bombs are
refused by HttpCompressionMiddleware against DOWNLOAD_MAXSIZE), limited redirects and
only the configured domains.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess

from crawler.site_config import SiteConfig, SiteRegistry
from docqueue.settings import Settings

log = logging.getLogger(__name__)


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    """Scrapy settings for a polite, fast crawl (see DESIGN's measured facts)."""
    return {
        "BOT_NAME": "newsdedup",
        "USER_AGENT": settings.user_agent.format(contact_url=settings.contact_url),
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "AUTOTHROTTLE_ENABLED": settings.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 0.25,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(settings.concurrent_per_domain),
        "CONCURRENT_REQUESTS": settings.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.concurrent_per_domain,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DOWNLOAD_MAXSIZE": settings.download_maxsize,
        "DOWNLOAD_WARNSIZE": settings.download_warnsize,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_MAX_TIMES": 5,
        "HTTPERROR_ALLOWED_CODES": [304],
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": settings.log_level if settings.log_level != "INFO" else "WARNING",
        # measured: 100 async item tasks per response and re-parsing callbacks cost more than the crawl
        "CONCURRENT_ITEMS": 1,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
            "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
            "crawler.safety.PrivateAddressGuard": 560,
        },
        # unused per-response work trimmed (DESIGN: Scrapy's cost is per request)
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
        "MEMUSAGE_ENABLED": False,
        "ITEM_PIPELINES": {"crawler.pipelines.DedupPublishPipeline": 300},
        "EXTENSIONS": {"crawler.health_extension.HealthExtension": 500, "crawler.metrics_extension.MetricsExtension": 510},
        "NEWSDEDUP_SETTINGS": settings,
    }


def sites_for(settings: Settings, names: Iterable[str] = ()) -> list[SiteConfig]:
    """The configured sites (all, or the named ones), moved to their `site_origins` if set."""
    registry = SiteRegistry.load(settings.sites_dirs)
    wanted = list(names) or list(registry.sites)
    unknown = [n for n in wanted if n not in registry.sites]
    if unknown:
        raise KeyError(f"unknown site(s): {', '.join(unknown)} (known: {', '.join(sorted(registry.sites))})")
    out = []
    for name in wanted:
        site = registry[name]
        origin = settings.site_origins.get(name)
        out.append(site.with_origin(origin) if origin else site)
    return out


@dataclass
class CrawlSummary:
    """What a crawl did, from Scrapy's stats."""

    stats: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> int:
        return int(self.stats.get(name, 0) or 0)

    @property
    def pages(self) -> int:
        return self.get("downloader/response_count")

    def per_site(self, site: str, counter: str) -> int:
        return self.get(f"newsdedup/{site}/{counter}")


def run_crawl(
    settings: Settings,
    sites: list[SiteConfig],
    limit: int | None = None,
    since: float | None = None,
    urls: Iterable[tuple[SiteConfig, str]] = (),
    force: bool = False,
    discover: bool = True,
    extra_scrapy: dict[str, Any] | None = None,
) -> CrawlSummary:
    """Crawl in this process (blocks until done); Twisted allows one run per process."""
    from crawler.spider import NewsSpider

    return run_spider(settings, NewsSpider, extra_scrapy, sites=sites, limit=limit, since=since,
                      urls=list(urls), force=force, discover=discover)


def run_spider(settings: Settings, spidercls: type, extra_scrapy: dict[str, Any] | None = None,
               on_signal: Callable[[Any, int], None] | None = None, **spider_kwargs: Any) -> CrawlSummary:
    """Crawl with `spidercls(**spider_kwargs)` (NewsSpider or a subclass) until it closes.

    Scrapy's own signal handling is replaced: `on_signal(crawler, count)` runs in the reactor
    thread for each SIGTERM/SIGINT (default: stop gracefully on the first, at once on the
    second), so workers can drain or release their tasks first."""
    root_level = logging.getLogger().level
    if root_level > logging.DEBUG:
        logging.disable(root_level - 1)  # Scrapy's start-up banner is INFO/DEBUG
    try:
        process = CrawlerProcess({**scrapy_settings(settings), "LOG_INSTALL_ROOT_HANDLER": False,
                                  **(extra_scrapy or {})})
    finally:
        logging.disable(logging.NOTSET)
    for name in ("", "scrapy", "twisted"):  # Scrapy opens these to DEBUG; keep the CLI's level (-v: debug)
        logging.getLogger(name).setLevel(root_level)
    crawler = process.create_crawler(spidercls)
    handler = on_signal or _default_on_signal
    received = [0]

    def _on_signal(signum: int, _frame: Any) -> None:
        from twisted.internet import reactor  # imported late: Scrapy installs its reactor in crawl()

        received[0] += 1
        reactor.callFromThread(handler, crawler, received[0])

    # installed before the crawl starts: the spider may take work before the reactor runs
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    process.crawl(crawler, **spider_kwargs)
    process.start(install_signal_handlers=False)
    return CrawlSummary(dict(crawler.stats.get_stats()) if crawler.stats else {})


def _default_on_signal(crawler: Any, count: int) -> None:
    if count == 1:
        log.warning("signal received: stopping after the requests in flight (again to stop at once)")
        crawler.stop()
    else:
        crawler.engine.close_spider(crawler.spider, "shutdown")
