"""`newsdedup worker`: a long-running Scrapy spider fed from the crawl task stream.

Scrapy-native in the spirit of scrapy-redis, but tasks are read through a consumer group and
acked only when their outcome is durable — never popped destructively:
  * article task  → acked on the pipeline's `items_durable` signal (published / verdict recorded),
  * discovery task → acked once every feed/sitemap/listing page of it has been parsed and its
    article tasks XADDed,
  * permanent failure → dead-letter stream with the reason; transient → retried with backoff.
Tasks are pulled when the engine is idle (`spider_idle`) and topped up by a timer; in-flight tasks
get a heartbeat so only a dead worker's tasks are reclaimed. SIGTERM/SIGINT: stop taking tasks,
finish those in flight (up to `grace` seconds), give the rest back to the stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import redis
import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import task as twisted_task
from twisted.python.failure import Failure

from crawler.components import components
from crawler.pipelines import items_durable
from crawler.spider import NewsSpider, seen_key
from crawler.urls import canonical_url
from docqueue.stream import default_consumer_name
from scheduler.tasks import ARTICLE, DISCOVER, Task, TaskQueue

log = logging.getLogger(__name__)

PERMANENT_HTTP = {400, 401, 403, 404, 410, 451}
DURABLE_TIMEOUT = 30.0  # an article parsed but not durable by then (failed flush) is handed back


@dataclass
class WorkerOptions:
    """Knobs of one worker process (CLI flags; defaults follow the queue settings)."""

    reclaim_idle: float | None = None
    max_attempts: int | None = None
    retry_base: float = 10.0
    max_inflight: int = 0  # 0: 2 × CONCURRENT_REQUESTS
    tick: float = 0.5
    grace: float = 25.0
    exit_when_idle: float | None = None  # batch mode: exit once nothing is left for this long
    consumer: str = field(default_factory=default_consumer_name)


@dataclass
class InFlight:
    task: Task
    taken: float
    outstanding: int = 0  # discovery requests not yet parsed
    succeeded: int = 0
    errors: list[tuple[bool, str]] = field(default_factory=list)  # (permanent, reason)
    parsed_at: float | None = None  # article parsed; waiting for items_durable


class TaskWorkerSpider(NewsSpider):
    """NewsSpider whose requests come from crawl tasks; see the module docstring."""

    name = "news-worker"

    def __init__(self, options: WorkerOptions | None = None, **kwargs: Any) -> None:
        super().__init__(discover=False, **kwargs)
        self.options = options or WorkerOptions()
        self.inflight: dict[str, InFlight] = {}
        self.draining = False
        self.drain_deadline = 0.0
        self.closing = False
        self.idle_since: float | None = None
        self.last_heartbeat = 0.0
        self.last_trim = 0.0
        self.loop: twisted_task.LoopingCall | None = None
        self.tasks: TaskQueue | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> TaskWorkerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, TaskWorkerSpider)
        c = components(crawler)
        spider.tasks = TaskQueue.from_settings(c.client, c.settings, reclaim_idle=spider.options.reclaim_idle,
                                               max_attempts=spider.options.max_attempts,
                                               retry_base=spider.options.retry_base)
        if not spider.options.max_inflight:
            spider.options.max_inflight = 2 * crawler.settings.getint("CONCURRENT_REQUESTS", 16)
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_durable, signal=items_durable)
        crawler.signals.connect(spider.on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    @property
    def queue(self) -> TaskQueue:
        assert self.tasks is not None
        return self.tasks

    async def start(self) -> Any:  # requests come from the task stream, not start URLs
        return
        yield  # pragma: no cover - makes this an async generator

    # ------------------------------------------------------------------ lifecycle
    def on_opened(self, spider: Any = None) -> None:
        self.queue.ensure_group()
        self.loop = twisted_task.LoopingCall(self.tick)
        self.loop.start(self.options.tick, now=True).addErrback(lambda f: log.error("tick loop: %s", f))
        log.info("worker %s: taking tasks from %s", self.options.consumer, self.queue.stream)

    def begin_drain(self) -> None:
        """First SIGTERM/SIGINT: take nothing new, let the tasks in flight finish."""
        if not self.draining:
            self.draining = True
            self.drain_deadline = time.monotonic() + self.options.grace
            log.warning("stopping: finishing %d task(s) in flight (up to %.0fs)", len(self.inflight),
                        self.options.grace)

    def stop_now(self, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.crawler.engine.close_spider(self, reason)

    def on_closed(self, spider: Any = None, reason: str = "") -> None:
        self.crawler.stats.set_value("newsdedup/tasks_reclaimed", self.queue.reclaimed)
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        left = [f.task for f in self.inflight.values()]
        if not left:
            return
        try:
            self.queue.release(left)
            log.warning("released %d unfinished task(s) back to the stream", len(left))
        except redis.RedisError as exc:  # still pending: reclaimed by another worker after the idle time
            log.warning("could not release %d task(s) (%s); they will be reclaimed", len(left), exc)
        self.inflight.clear()

    def tick(self) -> None:
        """Timer: heartbeat, hand back stuck items, top up tasks, exit when drained or idle."""
        try:
            self._tick()
        except redis.RedisError as exc:
            log.warning("Redis error (will retry): %s", exc)

    def _tick(self) -> None:
        now = time.monotonic()
        if self.draining:
            if not self.inflight or now >= self.drain_deadline:
                self.stop_now("shutdown")
            return
        if now - self.last_heartbeat >= self.queue.reclaim_idle_ms / 3000:
            self.last_heartbeat = now
            self._heartbeat_and_unstick()
        if now - self.last_trim >= 60:
            self.last_trim = now
            self.queue.trim()
            self.queue.forget_idle_consumers()
        self.feed()
        if self.options.exit_when_idle is not None:
            if self.inflight or not self.queue.drained():
                self.idle_since = None
            elif self.idle_since is None:
                self.idle_since = now
            elif now - self.idle_since >= self.options.exit_when_idle:
                log.info("no task left for %.1fs: exiting", self.options.exit_when_idle)
                self.stop_now("finished")

    def _heartbeat_and_unstick(self) -> None:
        now = time.monotonic()
        stuck = [f.task for f in self.inflight.values()
                 if f.parsed_at is not None and now - f.parsed_at > DURABLE_TIMEOUT]
        if stuck:  # the pipeline's flush failed (e.g. Redis went away): run them again
            self.queue.release(stuck)
            for t in stuck:
                self.inflight.pop(t.entry, None)
            log.warning("handed back %d task(s) whose items never became durable", len(stuck))
        for lost in self.queue.heartbeat(self.options.consumer, list(self.inflight)):
            self.inflight.pop(lost, None)  # reclaimed by another worker: it is theirs now
            log.warning("task %s was taken over by another worker", lost)

    def on_idle(self, spider: Any = None) -> None:
        if self.closing:
            return
        try:
            self.feed()
        except redis.RedisError as exc:
            log.warning("Redis error while taking tasks (will retry): %s", exc)
        raise DontCloseSpider

    # ------------------------------------------------------------------ taking tasks
    def feed(self) -> int:
        if self.draining or self.closing:
            return 0
        room = self.options.max_inflight - len(self.inflight)
        taken = self.queue.take(self.options.consumer, room) if room > 0 else []
        for t in taken:
            self.run_task(t)
        return len(taken)

    def run_task(self, t: Task) -> None:
        old = self.inflight.pop(t.entry, None)  # reclaimed from ourselves: start over
        if old is not None:
            log.info("re-running %s", t.describe())
        site = self.sites.get(t.site)
        if site is None or t.kind not in (ARTICLE, DISCOVER) or (t.kind == ARTICLE and not t.url):
            self.queue.dead_letter(t, f"unknown site {t.site!r} or bad task kind {t.kind!r} on this worker")
            return
        flight = InFlight(t, time.monotonic())
        self.inflight[t.entry] = flight
        if t.kind == ARTICLE:
            request = self._article_request(site, canonical_url(t.url), forced=t.force)
            request = request.replace(dont_filter=True, meta={**request.meta, "task_id": t.entry})
            self.crawler.engine.crawl(request)
            return
        if self.seen is not None:
            self.seen.expire(site.name)
        requests = [self._discovery(url, self.parse_feed, {"site": site.name}) for url in site.start.rss]
        requests += [self._discovery(url, self.parse_sitemap, {"site": site.name}) for url in site.start.sitemaps]
        requests += [self._discovery(url, self.parse_listing, {"site": site.name})
                     for listing in site.start.listings for url in listing.page_urls()]
        if not requests:
            self._finish(flight, ack=True)
            return
        flight.outstanding = len(requests)
        for request in requests:
            request.meta["task_id"] = t.entry
            self.crawler.engine.crawl(request)

    # ------------------------------------------------------------------ discovery
    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self._discovery_step(response, super().parse_feed(response))

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self._discovery_step(response, super().parse_sitemap(response))

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self._discovery_step(response, super().parse_listing(response))

    def _discovery_step(self, response: Response, results: Iterator[scrapy.Request]) -> Iterator[scrapy.Request]:
        tid = response.meta.get("task_id")
        flight = self.inflight.get(tid or "")
        try:
            for request in results:  # child sitemaps of a sitemap index belong to the same task
                if flight is not None and isinstance(request, scrapy.Request):
                    request.meta["task_id"] = tid
                    flight.outstanding += 1
                yield request
        except Exception as exc:
            if flight is not None:
                self._discovery_done(flight, error=(True, f"{type(exc).__name__}: {exc}"))
            raise
        if flight is not None:
            self._discovery_done(flight)

    def _follow_articles(self, response: Response, links: list[str]) -> Iterator[scrapy.Request]:
        """Enqueue article tasks instead of fetching here (seen URLs skipped unless forced)."""
        site = self.sites[response.meta["site"]]
        flight = self.inflight.get(response.meta.get("task_id") or "")
        force = flight.task.force if flight is not None else False
        by_key: dict[str, str] = {}
        for url in links:
            if site.is_article_url(url):
                canon = canonical_url(url)
                by_key.setdefault(seen_key(site, canon), canon)
        keys = list(by_key)
        if self.seen is not None and not force:
            keys = self.seen.unseen(site.name, keys)
        added = self.queue.enqueue_articles(site.name, [(k, by_key[k]) for k in keys], force=force,
                                            fresh_after=flight.task.created if (force and flight) else None)
        self.crawler.stats.inc_value("newsdedup/tasks_enqueued", added)
        return iter(())

    def _discovery_done(self, flight: InFlight, error: tuple[bool, str] | None = None) -> None:
        if error is None:
            flight.succeeded += 1
        else:
            flight.errors.append(error)
        flight.outstanding -= 1
        if flight.outstanding > 0 or flight.task.entry not in self.inflight:
            return
        if flight.succeeded:
            self._finish(flight, ack=True)
        elif all(permanent for permanent, _ in flight.errors):
            self._finish(flight, dead=flight.errors[0][1])
        else:
            self._finish(flight, retry=next(r for p, r in flight.errors if not p))

    # ------------------------------------------------------------------ articles and outcomes
    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        tid = response.meta.get("task_id")
        flight = self.inflight.get(tid or "")
        for item in super().parse_article(response):
            item["task_id"] = tid
            if flight is not None:
                flight.parsed_at = time.monotonic()
            yield item

    def on_durable(self, items: list[dict[str, Any]], **_: Any) -> None:
        done = [self.inflight.pop(tid) for tid in {it.get("task_id") for it in items} if tid in self.inflight]
        if done:
            self.queue.ack(f.task.entry for f in done)
            self.crawler.stats.inc_value("newsdedup/tasks_done", len(done))

    def on_error(self, failure: Failure) -> None:
        super().on_error(failure)
        request = failure.request  # type: ignore[attr-defined]
        flight = self.inflight.get(request.meta.get("task_id") or "")
        if flight is None:
            return
        permanent, reason = classify(failure)
        if flight.task.kind == DISCOVER:
            self._discovery_done(flight, error=(permanent, f"{request.url}: {reason}"))
        elif permanent:  # remembered as seen so the next discovery does not enqueue it again
            site = self.sites[flight.task.site]
            if self.seen is not None:
                self.seen.mark(site.name, [(seen_key(site, canonical_url(flight.task.url)), None, None)])
            self._finish(flight, dead=reason)
        else:
            self._finish(flight, retry=reason)

    def on_spider_error(self, failure: Failure, response: Response, spider: Any = None) -> None:
        flight = self.inflight.get(response.meta.get("task_id") or "")
        if flight is not None and flight.task.kind == ARTICLE:
            self._finish(flight, dead=f"parse error: {_type_name(failure)}: {failure.getErrorMessage()}")

    def _finish(self, flight: InFlight, ack: bool = False, retry: str | None = None, dead: str | None = None) -> None:
        if self.inflight.pop(flight.task.entry, None) is None:
            return
        try:
            if ack:
                self.queue.ack([flight.task.entry])
                self.crawler.stats.inc_value("newsdedup/tasks_done")
            elif retry is not None:
                self.queue.retry(flight.task, retry)
                self.crawler.stats.inc_value("newsdedup/tasks_retried")
            elif dead is not None:
                self.queue.dead_letter(flight.task, dead)
                self.crawler.stats.inc_value("newsdedup/tasks_dead")
        except redis.RedisError as exc:  # stays pending; reclaimed after the idle time
            log.warning("could not record the outcome of %s: %s", flight.task.describe(), exc)


def classify(failure: Failure) -> tuple[bool, str]:
    """(permanent?, one-line reason) of a request failure."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return status in PERMANENT_HTTP, f"HTTP {status}"
    message = (failure.getErrorMessage() or _type_name(failure)).splitlines()[0]
    if isinstance(exc, IgnoreRequest):  # robots.txt, unsafe address, offsite
        return True, f"refused: {message}"
    return False, f"{_type_name(failure)}: {message}"


def _type_name(failure: Failure) -> str:
    return failure.type.__name__ if failure.type is not None else "Error"
