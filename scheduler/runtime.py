"""Run one of our NewsSpider subclasses in this process with the crawl's Scrapy settings.

`crawler.runner.run_crawl` always runs the plain NewsSpider; the worker and re-crawl need their
own spider classes and their own SIGTERM/SIGINT handling (drain first, stop on the second signal),
so they start Scrapy here with `install_signal_handlers=False` and install ours.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import Any

from scrapy.crawler import CrawlerProcess

from crawler.runner import CrawlSummary, scrapy_settings
from docqueue.settings import Settings

log = logging.getLogger(__name__)


def run_spider(settings: Settings, spidercls: type, extra_scrapy: dict[str, Any] | None = None,
               on_signal: Callable[[Any, int], None] | None = None, **spider_kwargs: Any) -> CrawlSummary:
    """Crawl with `spidercls(**spider_kwargs)` until it closes; returns Scrapy's stats.

    `on_signal(crawler, count)` is called in the reactor thread for each SIGTERM/SIGINT
    (default: stop the crawl gracefully on the first, at once on the second)."""
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
    process.crawl(crawler, **spider_kwargs)
    handler = on_signal or _default_on_signal
    received = [0]

    def _install() -> None:
        from twisted.internet import reactor

        def _on_signal(signum: int, _frame: Any) -> None:
            received[0] += 1
            reactor.callFromThread(handler, crawler, received[0])

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)

    from twisted.internet import reactor

    reactor.callWhenRunning(_install)
    process.start(install_signal_handlers=False)
    return CrawlSummary(dict(crawler.stats.get_stats()) if crawler.stats else {})


def _default_on_signal(crawler: Any, count: int) -> None:
    if count == 1:
        log.warning("signal received: stopping after the requests in flight (again to stop at once)")
        crawler.stop()
    else:
        crawler.engine.close_spider(crawler.spider, "shutdown")
