"""The mirror's HTTP server: one 127.0.0.1 port per site (each site its own origin), conditional
GET with ETag / Last-Modified, per-URL hit counts, article updates, and the failure fixtures.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple
from urllib.parse import urlsplit

from . import failures
from .content import VN_TZ, MirrorArticle, MirrorContent, demo_mirror, updated_text
from .render import PAGE_SIZE, SITEMAP_CHUNK, SiteRenderer
from .sites import MirrorSite

_TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a"
    "1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f"
    "0000010501010101010100000000000000000102030405060708090a0bffda0008010100003f00d2cf20ffd9")


class ExpectedArticle(NamedTuple):
    site: str
    article_id: str
    url: str
    title: str
    version: int


class Reply(NamedTuple):
    status: int
    body: bytes
    ctype: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    kind: str = "other"
    validators: bool = False
    modified: datetime | None = None


class MirrorServer:
    """Serves a MirrorContent; use as a context manager or call start()/stop()."""

    def __init__(self, content: MirrorContent | None = None, sites: Sequence[str] | None = None, *,
                 link_failures: bool = False, slow_seconds: float = 30.0, huge_bytes: int = 50 * 2**20,
                 bomb_bytes: int = 256 * 2**20) -> None:
        self.content = content if content is not None else demo_mirror()
        wanted = set(sites) if sites is not None else None
        self.sites: list[MirrorSite] = [s for s in self.content.sites if wanted is None or s.name in wanted]
        self.link_failures = link_failures
        self.slow_seconds = slow_seconds
        self.huge_bytes = huge_bytes
        self.bomb_bytes = bomb_bytes
        self.origins: dict[str, str] = {}
        self.hits: Counter[str] = Counter()
        self.statuses: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._renderers: dict[str, SiteRenderer] = {}
        self._cache: dict[tuple[str, str, int], bytes] = {}
        self._paths: dict[str, dict[str, MirrorArticle]] = {}
        self._failures: dict[str, dict[str, str]] = {}
        self.now = datetime.now(VN_TZ).replace(microsecond=0)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> dict[str, str]:
        """Bind one free port per site and serve in background threads; returns {site: origin}."""
        if self._servers:
            return dict(self.origins)
        self._stopping.clear()
        for site in self.sites:
            httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self, site.name))
            httpd.daemon_threads = True
            self._servers.append(httpd)
            self.origins[site.name] = f"http://127.0.0.1:{httpd.server_address[1]}"
        for site in self.sites:
            self._renderers[site.name] = SiteRenderer(site, self.origins[site.name], self.origins)
            self._paths[site.name] = {a.path: a for a in self.content.articles.get(site.name, [])}
            self._failures[site.name] = failures.failure_paths(site)
        for httpd in self._servers:
            thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return dict(self.origins)

    def stop(self) -> None:
        self._stopping.set()
        for httpd in self._servers:
            httpd.shutdown()
            httpd.server_close()
        for thread in self._threads:
            thread.join(5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> MirrorServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- what tests look at ---------------------------------------------------------------------
    def expected_articles(self) -> list[ExpectedArticle]:
        """Every article page served (current versions), as the crawl should find them."""
        return [ExpectedArticle(a.site, a.article_id, self.origins.get(a.site, "") + a.path, a.version.title,
                                a.version_number)
                for site in self.sites for a in self.content.articles.get(site.name, [])]

    def article(self, site: str, article_id: str) -> MirrorArticle:
        return self.content.find(site, article_id)

    def update_article(self, site: str, article_id: str) -> int:
        """Switch an article to its next version (made on the fly if none is prepared); returns it."""
        article = self.content.find(site, article_id)
        with self._lock:
            if article.current + 1 >= len(article.versions):
                when = max(datetime.now(VN_TZ).replace(microsecond=0),
                           article.version.modified + timedelta(seconds=1))
                article.versions.append(updated_text(article.version, when))
            article.current += 1
            if article.versions[article.current].modified <= article.versions[article.current - 1].modified:
                article.versions[article.current].modified = article.versions[article.current - 1].modified + \
                    timedelta(seconds=1)
        return article.version_number

    def failure_urls(self, site: str | None = None, aliases: bool = False) -> dict[str, str]:
        """kind -> URL of each failure fixture on `site` (default: the first site)."""
        name = site or self.sites[0].name
        if aliases:
            return {k: f"{self.origins[name]}/_bad/{k}" for k in failures.KINDS}
        return {k: self.origins[name] + p for k, p in self._failures[name].items()}

    def private_url(self, site: str) -> str:
        """A page robots.txt disallows (linked from the site's first listing page)."""
        return self.origins[site] + self._private_path(site)

    def _private_path(self, site: str) -> str:
        return "/private" + self._failures[site]["no-article"].replace("loi-no-article", "noi-bo")

    def classify(self, url: str) -> str:
        """article | feed | sitemap | listing | robots | private | failure | image | other."""
        parts = urlsplit(url)
        name = next((n for n, o in self.origins.items() if o == f"{parts.scheme}://{parts.netloc}"), None)
        if name is None:
            return "other"
        return self._route(name, parts.path, dry=True).kind

    def warm(self) -> int:
        """Render every article page now (benchmarks: serving then costs the mirror little CPU)."""
        count = 0
        for site in self.sites:
            for article in self.content.articles.get(site.name, []):
                self._article_reply(site.name, article, dry=False)
                count += 1
        return count

    def reset_hits(self) -> None:
        with self._lock:
            self.hits.clear()
            self.statuses.clear()

    # -- routing --------------------------------------------------------------------------------
    def _site(self, name: str) -> MirrorSite:
        return next(s for s in self.sites if s.name == name)

    def _route(self, name: str, path: str, dry: bool = False) -> Reply:
        site = self._site(name)
        render = self._renderers[name]
        pages = self.content.articles.get(name, [])
        if path == "/robots.txt":
            return Reply(200, render.robots().encode(), "text/plain; charset=utf-8", kind="robots")
        if path in self._paths[name]:
            return self._article_reply(name, self._paths[name][path], dry)
        if path in site.rss:
            feed = site.rss.index(path)
            items = [a for i, a in enumerate(pages) if i % len(site.rss) == feed][:30]
            body = b"" if dry else render.rss(path, items, self.now).encode()
            return Reply(200, body, "application/rss+xml; charset=utf-8", kind="feed", validators=True,
                         modified=_newest(items))
        if path in site.sitemaps or path.startswith("/sitemaps/"):
            return self._sitemap_reply(site, path, pages, dry)
        listing = self._listing_reply(site, path, pages, dry)
        if listing is not None:
            return listing
        if path.startswith("/private/"):
            ok = path == self._private_path(name)
            return Reply(200 if ok else 404, b"" if dry else render.not_found().encode(), kind="private")
        kind = next((k for k, p in self._failures[name].items() if p == path), None)
        if kind is None and path.startswith("/_bad/"):
            kind = path[len("/_bad/"):].strip("/")
        if kind in failures.KINDS or kind == "redirect-loop-b":
            return self._failure_reply(name, kind, dry)
        if path.startswith("/images/"):
            return Reply(200, _TINY_JPEG, "image/jpeg", kind="image", validators=True)
        return Reply(404, b"" if dry else render.not_found().encode(), kind="other")

    def _article_reply(self, name: str, article: MirrorArticle, dry: bool) -> Reply:
        if dry:
            return Reply(200, b"", kind="article")
        key = (name, article.article_id, article.current)
        cached = self._cache.get(key)
        if cached is None:
            pages = self.content.articles.get(name, [])
            cached = self._renderers[name].article_page(article, pages[:6]).encode()
            self._cache[key] = cached
        return Reply(200, cached, kind="article", validators=True, modified=article.version.modified)

    def _sitemap_reply(self, site: MirrorSite, path: str, pages: list[MirrorArticle], dry: bool) -> Reply:
        render = self._renderers[site.name]
        xml = "application/xml; charset=utf-8"
        chunks = max(1, -(-len(pages) // SITEMAP_CHUNK))
        newest = _newest(pages)
        if path == "/sitemaps/news.xml" or (path in site.sitemaps[1:] and "news" in path):
            items = pages[:1000]
            return Reply(200, b"" if dry else render.news_sitemap(items).encode(), xml, kind="sitemap",
                         validators=True, modified=newest)
        match = re.fullmatch(r"/sitemaps/articles-(\d+)\.xml", path)
        if match and 1 <= int(match.group(1)) <= chunks:
            start = (int(match.group(1)) - 1) * SITEMAP_CHUNK
            items = pages[start : start + SITEMAP_CHUNK]
            return Reply(200, b"" if dry else render.urlset(items).encode(), xml, kind="sitemap",
                         validators=True, modified=_newest(items))
        if path in site.sitemaps:
            return Reply(200, b"" if dry else render.sitemap_index(chunks, newest or self.now).encode(), xml,
                         kind="sitemap", validators=True, modified=newest)
        return Reply(404, b"", kind="other")

    def _listing_reply(self, site: MirrorSite, path: str, pages: list[MirrorArticle], dry: bool) -> Reply | None:
        found: tuple[int, int] | None = None
        for li, listing in enumerate(site.listings):
            if path == listing.path:
                found = (li, 0)
                break
            pattern = re.escape(listing.page_path).replace(re.escape("{page}"), r"(\d+)")
            match = re.fullmatch(pattern, path)
            if match:
                found = (li, int(match.group(1)) - listing.first_page + 1)
                break
        if found is None or found[1] < 0:
            return None
        li, index = found
        listing = site.listings[li]
        items = [a for i, a in enumerate(pages) if i % len(site.listings) == li]
        chunk = items[index * PAGE_SIZE : (index + 1) * PAGE_SIZE]
        next_path = listing.page(index + 1) if (index + 1) * PAGE_SIZE < len(items) else None
        extra: list[tuple[str, str]] = []
        if li == 0 and index == 0:
            extra.append((self.private_url(site.name), "Tin nội bộ dành cho phóng viên"))
            if self.link_failures and site is self.sites[0]:
                extra += [(url, f"Bài kiểm thử {kind}") for kind, url in self.failure_urls(site.name).items()]
        body = b"" if dry else self._renderers[site.name].listing_page(path, chunk, next_path, extra).encode()
        return Reply(200, body, kind="listing", validators=True, modified=_newest(chunk))

    def _failure_reply(self, name: str, kind: str, dry: bool) -> Reply:
        origin = self.origins[name]
        if dry or kind in ("huge", "huge-chunked", "slow"):
            return Reply(200, b"", kind="failure", headers=(("X-Mirror-Failure", kind),))
        if kind == "truncated":
            article = self.content.articles[name][0]
            return Reply(200, failures.truncated_page(self._article_reply(name, article, False).body), kind="failure")
        if kind == "cp1258":
            article = self.content.articles[name][0]
            page = failures.cp1258_page(article.version.title, [article.version.lead, *article.version.paragraphs])
            return Reply(200, page, kind="failure")
        if kind == "empty":
            return Reply(200, b"", kind="failure")
        if kind == "not-found":
            return Reply(404, self._renderers[name].not_found().encode(), kind="failure")
        if kind == "server-error":
            return Reply(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", kind="failure")
        if kind == "gzip-bomb":
            return Reply(200, failures.gzip_bomb(self.bomb_bytes), kind="failure",
                         headers=(("Content-Encoding", "gzip"),))
        if kind == "redirect-loop":
            return Reply(302, b"", kind="failure", headers=(("Location", origin + "/_bad/redirect-loop-b"),))
        if kind == "redirect-loop-b":
            loop = self._failures[name]["redirect-loop"]
            return Reply(302, b"", kind="failure", headers=(("Location", origin + loop),))
        if kind == "redirect-private":
            return Reply(302, b"", kind="failure", headers=(("Location", failures.PRIVATE_REDIRECT),))
        return Reply(200, failures.no_article_page(origin), kind="failure")


def _newest(items: Sequence[MirrorArticle]) -> datetime | None:
    return max((a.version.modified for a in items), default=None)


def _make_handler(server: MirrorServer, name: str) -> type[BaseHTTPRequestHandler]:
    from .handler import make_handler

    return make_handler(server, name)

