"""Site registry: packaged YAMLs validate, lookups work, broken files fail with a clear error,
and the listing pagination in the YAMLs matches the real listing pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from parsel import Selector

from crawler.site_config import SiteConfig, SiteConfigError, SiteRegistry, load_site_file, load_sites

PAGES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "vn-pages"
REQUIRED = {"vnexpress", "dantri", "tuoitre", "nld", "vietnamnet", "thanhnien", "znews", "vtcnews"}
TOP_KEYS = {"name", "display_name", "language", "domains", "start", "article_url", "schedule", "extract", "notes"}


@pytest.fixture(scope="module")
def sites() -> dict[str, SiteConfig]:
    return load_sites()


def test_packaged_sites_load(sites: dict[str, SiteConfig]) -> None:
    assert set(sites) >= REQUIRED
    for name, site in sites.items():
        assert site.name == name
        assert site.start.rss or site.start.sitemaps or site.start.listings
        assert site.schedule.seconds or site.schedule.cron
        assert site.extract.title and site.extract.body, name
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "crawler/sites/vnexpress.yaml").read_text())
    assert set(raw) == TOP_KEYS  # the stable top-level keys other tools read raw


@pytest.mark.parametrize(
    ("url", "site", "article_id"),
    [
        ("https://vnexpress.net/cach-cac-nuoc-doi-pho-cu-soc-nang-luong-tu-trung-dong-5047363.html", "vnexpress", "5047363"),
        ("https://dantri.com.vn/kinh-doanh/gia-vang-giam-van-cao-hon-the-gioi-gan-20-trieu-dongluong-20260307080054340.htm", "dantri", "20260307080054340"),
        ("https://tuoitre.vn/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm", "tuoitre", "20260307075519174"),
        ("https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-196260307071308923.htm", "nld", "196260307071308923"),
        ("https://vietnamnet.vn/bo-cong-thuong-hoa-toc-yeu-cau-kiem-tra-2495223.html", "vietnamnet", "2495223"),
        ("https://thanhnien.vn/gia-vang-hom-nay-185250307081234567.htm", "thanhnien", "185250307081234567"),
        ("https://znews.vn/gia-vang-hom-nay-post1534567.html", "znews", "1534567"),
        ("https://vtcnews.vn/gia-vang-hom-nay-ar912345.html", "vtcnews", "912345"),
    ],
)
def test_article_ids_and_lookup(sites: dict[str, SiteConfig], url: str, site: str, article_id: str) -> None:
    registry = SiteRegistry(sites)
    found = registry.for_url(url)
    assert found is not None and found.name == site
    assert SiteConfig.site_for_url(url, registry) is found
    assert found.article_id(url) == article_id
    assert found.is_article_url(url)


def test_non_article_urls(sites: dict[str, SiteConfig]) -> None:
    for site in sites.values():
        for listing in site.start.listings:
            for page in listing.page_urls():
                assert not site.is_article_url(page), page
        for feed in site.start.rss + site.start.sitemaps:
            assert not site.is_article_url(feed), feed
    # another site's article URL is never this site's article
    assert sites["dantri"].article_id("https://vnexpress.net/x-5047363.html") is None


def test_host_lookup(sites: dict[str, SiteConfig]) -> None:
    registry = SiteRegistry(sites)
    assert registry.for_host("m.vnexpress.net").name == "vnexpress"  # type: ignore[union-attr]
    assert registry.for_host("zingnews.vn").name == "znews"  # type: ignore[union-attr]
    assert registry.for_host("notvnexpress.net") is None
    assert registry.for_url("https://example.com/a-1234567.html") is None
    assert sites["vnexpress"].owns_url("https://e.vnexpress.net/news/x")


def test_with_origin(sites: dict[str, SiteConfig]) -> None:
    site = sites["vnexpress"]
    moved = site.with_origin("http://127.0.0.1:40123")
    urls = moved.start.rss + moved.start.sitemaps + [u for lst in moved.start.listings for u in lst.page_urls()]
    assert urls and all(u.startswith("http://127.0.0.1:40123/") for u in urls)
    assert moved.start.listings[0].page_urls()[1] == "http://127.0.0.1:40123/kinh-doanh-p2"
    assert "127.0.0.1" in moved.domains and "vnexpress.net" in moved.domains
    assert moved.owns_url("http://127.0.0.1:40123/x-5047363.html")
    assert moved.article_id("http://127.0.0.1:40123/x-5047363.html") == "5047363"
    assert site.start.rss[0].startswith("https://vnexpress.net/")  # the original is untouched
    with pytest.raises(ValueError):
        site.with_origin("127.0.0.1:40123")


# -- listing pagination against the real listing pages ------------------------------------

NEXT_PAGE = {  # from ../shared/README.md
    "dantri": "/kinh-doanh/trang-2.htm",
    "tuoitre": "/timeline/11/trang-1.htm",
    "vnexpress": "/kinh-doanh-p2",
    "nld": "/timelinelist/1961014/2.htm",
    "vietnamnet": "/kinh-doanh-page1",
}
# Where the page itself shows its next page: a link, or (JavaScript timelines) the zone id.
NEXT_IN_PAGE = {
    "dantri": ("link", ".pagination a.page-item:not(.active)::attr(href)"),
    "vnexpress": ("link", "a.next-page::attr(href)"),
    "vietnamnet": ("link", 'link[rel="next"]::attr(href)'),
    "tuoitre": ("zone", '[data-cd-key*="zoneid11type"]'),
    "nld": ("zone", '[data-cd-key*="newsinzone:zone1961014"]'),
}


@pytest.mark.parametrize("name", sorted(NEXT_PAGE))
def test_listing_next_page_urls(sites: dict[str, SiteConfig], name: str) -> None:
    listing = sites[name].start.listings[0]
    produced = listing.page_urls()[1]
    assert urlsplit(produced).path == NEXT_PAGE[name]
    html = (PAGES_DIR / f"{name}_list.html").read_text(encoding="utf-8")
    sel = Selector(text=html)
    canonical = sel.css('link[rel="canonical"]::attr(href), meta[property="og:url"]::attr(content)').get()
    assert canonical is not None and sites[name].owns_url(canonical)
    kind, css = NEXT_IN_PAGE[name]
    if kind == "link":
        assert urljoin(canonical, sel.css(css).get() or "") == produced
    else:
        assert sel.css(css), f"zone id of {NEXT_PAGE[name]} not found in the listing page"


# -- schema errors ---------------------------------------------------------------------------

GOOD = {
    "name": "demo",
    "display_name": "Demo",
    "language": "vi",
    "domains": ["demo.vn"],
    "start": {"rss": ["https://demo.vn/rss.xml"], "listings": [{"url": "https://demo.vn/tin", "page_url": "https://demo.vn/tin/p{page}"}]},
    "article_url": r"-(?P<id>\d+)\.html$",
    "schedule": {"cron": "*/20 * * * *"},
    "extract": {"title": "h1", "body": ["div.body"]},
    "notes": "test",
}


def write(tmp_path: Path, data: dict | str, name: str = "demo") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_good_extra_dir_adds_and_overrides(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    override = dict(GOOD, name="vnexpress", display_name="Mirror VnExpress")
    write(tmp_path, override, "vnexpress")
    sites = load_sites([tmp_path])
    assert sites["demo"].extract.title == ["h1"]  # a single string becomes a one-item list
    assert sites["demo"].schedule.cron == "*/20 * * * *"
    assert sites["vnexpress"].display_name == "Mirror VnExpress"
    assert "dantri" in sites


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"domains": None}, "domains"),
        ({"article_url": r"-(\d+)\.html$"}, "article_url"),
        ({"article_url": r"-(?P<id>\d+\.html$"}, "article_url"),
        ({"start": {"listings": [{"url": "https://demo.vn/tin", "page_url": "https://demo.vn/tin/p2"}]}}, "start.listings.0.page_url"),
        ({"schedule": {"interval": "30m", "cron": "* * * * *"}}, "schedule"),
        ({"schedule": {"interval": "soon"}}, "schedule"),
        ({"extract": {"body": ["//div[@id='x']"]}}, "extract.body"),
        ({"extract": {"remove_text": ["(unclosed"]}}, "extract.remove_text"),
        ({"extract": {"titel": "h1"}}, "extract.titel"),
        ({"colour": "red"}, "colour"),
        ({"name": "other"}, "name"),
    ],
)
def test_schema_errors_name_file_and_field(tmp_path: Path, change: dict, field: str) -> None:
    data = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    path = write(tmp_path, data)
    with pytest.raises(SiteConfigError) as info:
        load_site_file(path)
    message = str(info.value)
    assert str(path) in message and field in message, message
    with pytest.raises(SiteConfigError):
        load_sites([tmp_path])


def test_broken_yaml_syntax(tmp_path: Path) -> None:
    path = write(tmp_path, "name: demo\ndomains: [demo.vn\n")
    with pytest.raises(SiteConfigError, match=r"demo\.yaml: cannot read YAML"):
        load_site_file(path)
    with pytest.raises(SiteConfigError, match="top level must be a mapping"):
        load_site_file(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(SiteConfigError, match="not a directory"):
        load_sites([tmp_path / "missing"])
