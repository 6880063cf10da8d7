"""Local mirror: every site serves its registry paths, article URLs follow the site's own id scheme,
pages keep the real DOM, validators and updates behave, and the failure fixtures fail as specified."""

from __future__ import annotations

import http.client
import json
import re
import socket
import unicodedata
import urllib.robotparser
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from parsel import Selector

from crawler.mirror import MIRRORED, MirrorServer, build_mirror, demo_articles, load_sites, mirror_from_baomoi
from crawler.mirror.content import truncate
from crawler.mirror.failures import KINDS, PRIVATE_REDIRECT, gunzip_size, to_cp1258
from crawler.mirror.sites import SITES_DIR, url_path
from tests.mirror_fixtures import BAOMOI

PACKAGE = Path(__file__).resolve().parents[2] / "crawler" / "mirror"
DOM = {  # selectors the site rules rely on, taken from the real captured pages
    "dantri": ("h1", "#desktop-in-article p", "time[datetime]", 'article[data-content-name="article-related"]',
               'a[data-content-name="article-breadcrumb"]', 'a[data-content-name="article-tags"]'),
    "tuoitre": ('h1.detail-title[data-role="title"]', 'h2.detail-sapo[data-role="sapo"]',
                'div.detail-content[data-role="content"] p', 'div[data-role="publishdate"]',
                'div[type="RelatedOneNews"]', "div.detail__related .box-category-item"),
    "vnexpress": ("h1.title-detail", "p.description", "article.fck_detail p.Normal", "span.date",
                  'meta[name="pubdate"]', "ul.breadcrumb a"),
    "nld": ('h1.detail-title[data-role="title"]', 'h2.detail-sapo[data-role="sapo"]',
            'div.detail-content[data-role="content"] p', 'time[data-role="publishdate"]',
            "div.detail__related .box-category-item", 'div[type="RelatedNewsBox"]'),
}


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10.0,
        method: str = "GET", limit: int | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        resp = conn.getresponse()
        body = resp.read(limit) if limit is not None else resp.read()
        return resp.status, resp.headers, body
    finally:
        conn.close()


def html(url: str) -> Selector:
    status, _, body = get(url)
    assert status == 200, url
    return Selector(text=body.decode("utf-8"))


def test_sites_follow_registry_yaml() -> None:
    sites = {s.name: s for s in load_sites()}
    assert set(sites) == set(MIRRORED)
    for name, site in sites.items():
        path = SITES_DIR / f"{name}.yaml"
        if not path.is_file():
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert site.rss == tuple(url_path(u) for u in raw["start"]["rss"])
        assert site.sitemaps == tuple(url_path(u) for u in raw["start"]["sitemaps"])
        assert [lst.path for lst in site.listings] == [url_path(x["url"]) for x in raw["start"]["listings"]]
        assert site.article_url.pattern == raw["article_url"]


def test_discovery_paths_reach_every_article(demo_mirror: MirrorServer) -> None:
    expected = demo_mirror.expected_articles()
    for site in demo_mirror.sites:
        origin = demo_mirror.origins[site.name]
        want = {e.url for e in expected if e.site == site.name}
        assert want
        status, _, robots = get(origin + "/robots.txt")
        assert status == 200 and b"Disallow: /private/" in robots
        for feed in site.rss:
            links = html(origin + feed).xpath("//item/link/text()").getall()
            assert links and set(links) <= want
        index = Selector(text=get(origin + site.sitemaps[0])[2].decode(), type="xml")
        index.remove_namespaces()
        children = index.xpath("//sitemap/loc/text()").getall()
        assert any("news" in c for c in children) and len(children) >= 2
        in_sitemaps: set[str] = set()
        for child in children:
            doc = Selector(text=get(child)[2].decode(), type="xml")
            if "news" in child:
                assert doc.xpath("//*[local-name()='publication_date']")
            doc.remove_namespaces()
            in_sitemaps |= set(doc.xpath("//url/loc/text()").getall())
        assert in_sitemaps == want
        listing = site.listings[0]
        page = html(origin + listing.path)
        found = {a for a in page.css("a::attr(href)").getall() if a in want}
        assert len(found) >= min(len(want), 3)
        assert demo_mirror.private_url(site.name) in page.css("a::attr(href)").getall()


def test_listing_pagination(mirror: MirrorServer) -> None:
    if not BAOMOI.is_file():
        pytest.skip("pagination past page 3 needs the baomoi-backed mirror (../shared corpus)")
    site = mirror.sites[0]
    origin = mirror.origins[site.name]
    listing = site.listings[0]
    seen: list[str] = []
    url: str | None = origin + listing.path
    for _ in range(listing.max_pages + 1):
        assert url is not None
        page = html(url)
        seen += [a for a in page.css("a::attr(href)").getall() if site.article_id(urlsplit(a).path)]
        nxt = [a for a in page.css("a::attr(href)").getall() if urlsplit(a).path.startswith(
            listing.page_path.split("{page}")[0])]
        url = nxt[-1] if nxt else None
    assert url == origin + listing.page(listing.max_pages + 1)
    assert len(set(seen)) > 3 * 20
    assert html(origin + listing.page(1)).css("a::attr(href)").getall()


def test_article_paths_match_yaml_regex_and_ids(mirror: MirrorServer) -> None:
    expected = mirror.expected_articles()
    assert len(expected) >= (4 * 20 if BAOMOI.is_file() else 4 * 5)
    for exp in expected:
        site = next(s for s in mirror.sites if s.name == exp.site)
        match = site.article_url.search(urlsplit(exp.url).path)
        assert match and match.group("id") == exp.article_id
    assert len({(e.site, e.article_id) for e in expected}) == len(expected)


def test_article_pages_keep_the_real_dom(demo_mirror: MirrorServer) -> None:
    titles = {e.title for e in demo_mirror.expected_articles()}
    for exp in demo_mirror.expected_articles()[::7]:
        page = html(exp.url)
        for selector in DOM[exp.site]:
            assert page.css(selector), (exp.site, selector)
        assert exp.title in page.css("h1 ::text").get("")
        assert page.css('link[rel="canonical"]::attr(href)').get() == exp.url
        assert page.css('meta[property="og:url"]::attr(content)').get() == exp.url
        ld = [json.loads(s) for s in page.css('script[type="application/ld+json"]::text').getall()]
        article = next(x for x in ld if x["@type"] == "NewsArticle")
        assert article["headline"] == exp.title and article["datePublished"].endswith("+07:00")
        related = [t.strip() for t in page.css(
            'article[data-content-name="article-related"] h3 a::text, .detail__related .box-category-item h3 a::text, '
            ".detail__related .box-category-item h4 a::text, .box-tinlienquanv2 h4 a::text").getall()]
        assert related and set(related) <= titles and exp.title not in related


def test_dates_and_sapo_in_site_formats(demo_mirror: MirrorServer) -> None:
    by_site = {e.site: e for e in demo_mirror.expected_articles()}
    dantri = html(by_site["dantri"].url)
    assert re.search(r", \d{2}/\d{2}/\d{4} - \d{2}:\d{2}$", dantri.css("time::text").get(""))
    assert dantri.css("h2::text").get("").startswith("(Dân trí) - ")
    vne = html(by_site["vnexpress"].url)
    assert re.search(r", \d{1,2}/\d{1,2}/\d{4}, \d{2}:\d{2} \(GMT\+7\)$", vne.css("span.date::text").get(""))
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2} GMT\+7",
                        html(by_site["tuoitre"].url).css('div[data-role="publishdate"]::text').get(""))
    assert html(by_site["nld"].url).css("h2.detail-sapo::text").get("").startswith("(NLĐO)- ")


def test_syndicated_copies_across_sites(demo_mirror: MirrorServer) -> None:
    stories = demo_mirror.content.stories()
    shared = {k: v for k, v in stories.items() if len({a.site for a in v}) > 1}
    assert len(shared) >= 3
    variants = {a.variant for pages in shared.values() for a in pages}
    assert "original" in variants and variants - {"original"}
    for pages in shared.values():
        original = next(a for a in pages if a.variant == "original")
        for copy in (a for a in pages if a.variant != "original"):
            page = html(demo_mirror.origins[copy.site] + copy.path)
            text = " ".join(page.css("p::text").getall())
            first = original.version.paragraphs[0]
            if copy.variant in ("copy", "truncated"):
                assert first in text
            assert "TIN CÙNG CHỦ ĐỀ" in page.get()


def test_conditional_get_and_hits(demo_mirror: MirrorServer) -> None:
    url = demo_mirror.expected_articles()[3].url
    status, headers, body = get(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    before = demo_mirror.hits[url]
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert get(url, {"If-None-Match": '"stale"'})[0] == 200
    assert demo_mirror.hits[url] == before + 3
    assert demo_mirror.statuses[(url, 304)] >= 2
    assert demo_mirror.classify(url) == "article"
    status, headers, zipped = get(url, {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and len(zipped) < len(body)


def test_update_switches_content_and_validators(make_mirror: Callable[..., MirrorServer]) -> None:
    server = make_mirror()
    exp = server.expected_articles()[0]
    _, old_headers, old_body = get(exp.url)
    assert server.update_article(exp.site, exp.article_id) == 2
    status, headers, body = get(exp.url, {"If-None-Match": old_headers["ETag"]})
    assert status == 200 and body != old_body and b"C\xe1\xba\xadp nh\xe1\xba\xadt l\xc3\xbac" in body
    assert headers["ETag"] != old_headers["ETag"]
    assert headers["Last-Modified"] != old_headers["Last-Modified"]
    assert get(exp.url, {"If-Modified-Since": old_headers["Last-Modified"]})[0] == 200
    assert next(e for e in server.expected_articles() if e.url == exp.url).version == 2
    assert server.update_article(exp.site, exp.article_id) == 3


def test_failure_fixtures(make_mirror: Callable[..., MirrorServer]) -> None:
    server = make_mirror(slow_seconds=3.0, huge_bytes=50 * 2**20)
    urls = server.failure_urls()
    site = server.sites[0]
    for kind, url in urls.items():
        assert site.article_id(urlsplit(url).path), kind
        assert server.classify(url) == "failure"
    assert set(server.failure_urls(aliases=True)) == set(KINDS)
    status, headers, body = get(urls["truncated"])
    assert status == 200 and body and b"</html>" not in body
    status, headers, body = get(urls["cp1258"])
    assert "utf-8" in headers["Content-Type"]
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    title = server.content.articles[site.name][0].version.title
    assert title in unicodedata.normalize("NFC", body.decode("cp1258"))
    status, headers, body = get(urls["empty"])
    assert (status, body, headers["Content-Length"]) == (200, b"", "0")
    assert get(urls["not-found"])[0] == 404
    assert get(urls["server-error"])[0] == 500
    with pytest.raises((TimeoutError, socket.timeout)):
        get(urls["slow"], timeout=0.5)
    status, headers, body = get(urls["huge"], limit=1 << 20)
    assert status == 200 and int(headers["Content-Length"]) == 50 * 2**20 and len(body) == 1 << 20
    status, headers, body = get(urls["huge-chunked"], limit=1 << 20)
    assert status == 200 and "Content-Length" not in headers and len(body) == 1 << 20
    status, headers, body = get(urls["gzip-bomb"], {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and len(body) < 2 * 2**20
    assert gunzip_size(body) > 200 * 2**20
    status, headers, _ = get(urls["redirect-loop"])
    assert status == 302
    status2, headers2, _ = get(headers["Location"])
    assert status2 == 302 and headers2["Location"] == urls["redirect-loop"]
    status, headers, _ = get(urls["redirect-private"])
    assert status == 302 and headers["Location"] == PRIVATE_REDIRECT
    status, _, body = get(urls["no-article"])
    assert status == 200 and b"<h1" not in body and b"<p" not in body


def test_failures_linked_only_when_asked(make_mirror: Callable[..., MirrorServer]) -> None:
    server = make_mirror(link_failures=True)
    site = server.sites[0]
    links = html(server.origins[site.name] + site.listings[0].path).css("a::attr(href)").getall()
    assert set(server.failure_urls().values()) <= set(links)
    other = server.sites[1]
    links = html(server.origins[other.name] + other.listings[0].path).css("a::attr(href)").getall()
    assert not set(server.failure_urls(other.name).values()) & set(links)


def test_robots_disallows_the_linked_private_page(demo_mirror: MirrorServer) -> None:
    for site in demo_mirror.sites:
        origin = demo_mirror.origins[site.name]
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(get(origin + "/robots.txt")[2].decode().splitlines())
        private = demo_mirror.private_url(site.name)
        assert site.article_id(urlsplit(private).path)
        assert not parser.can_fetch("newsdedup", private)
        assert parser.can_fetch("newsdedup", demo_mirror.expected_articles()[0].url)
        assert demo_mirror.classify(private) == "private"


def test_packaged_content_is_the_default_and_small() -> None:
    texts = demo_articles()
    assert len(texts) >= 22 and all(4 <= len(t.paragraphs) + bool(t.lead) <= 25 for t in texts)
    assert any(t.title.startswith("Nga và Triều Tiên sắp hoàn tất") for t in texts)
    assert not any("TIN CÙNG CHỦ ĐỀ" in p for t in texts for p in t.paragraphs)
    size = sum(p.stat().st_size for p in (PACKAGE / "data").rglob("*") if p.is_file())
    size += sum(p.stat().st_size for p in (PACKAGE / "templates").rglob("*") if p.is_file())
    assert size < 300_000
    assert (PACKAGE / "templates" / "LICENSE.tracking_news-mcp").is_file()
    server = MirrorServer()
    assert {a.story for pages in server.content.articles.values() for a in pages} >= {"seed-000", "seed-001"}


def test_baomoi_mirror_reads_the_corpus_at_run_time() -> None:
    if not BAOMOI.is_file():
        pytest.skip("shared baomoi corpus not present")
    content = mirror_from_baomoi(BAOMOI, per_site=50)
    for pages in content.articles.values():
        assert len([a for a in pages if a.variant == "original"]) >= 45
    assert not list(PACKAGE.rglob("*baomoi*"))


def test_text_helpers() -> None:
    paragraphs = ("Một hai ba bốn. Năm sáu bảy tám.", "Chín mười mười một mười hai.")
    assert truncate(paragraphs, 0.5) == ("Một hai ba bốn.",)
    raw = to_cp1258("Việt Nam đặt hàng")
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == "Việt Nam đặt hàng" and raw != "Việt".encode()
    content = build_mirror(demo_articles()[:4], load_sites(["vnexpress"]), syndicate=1.0)
    assert len(content.articles["vnexpress"]) == 4
