"""Mirror site definitions: the discovery paths and article-URL shape of each mirrored site.

The paths come from the site registry YAMLs (`crawler/sites/<name>.yaml`, read raw so the mirror
does not depend on the registry's loader); the built-in defaults below are the real sites' public
entry points and are used only when a YAML is missing. Each site also knows how to *make* an
article path whose id matches the site's own `article_url` regex, which the registry checks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

SITES_DIR = Path(__file__).resolve().parent.parent / "sites"

#: Sites with a real-page template in this package (vietnamnet, thanhnien, znews and vtcnews
#: have no captured article page, so the mirror does not serve them).
MIRRORED = ("vnexpress", "dantri", "tuoitre", "nld")

DEFAULTS: dict[str, dict[str, Any]] = {
    "vnexpress": {
        "domains": ["vnexpress.net"],
        "start": {
            "rss": ["https://vnexpress.net/rss/tin-moi-nhat.rss", "https://vnexpress.net/rss/the-gioi.rss"],
            "sitemaps": ["https://vnexpress.net/sitemap.xml"],
            "listings": [{"url": "https://vnexpress.net/kinh-doanh", "page_url": "https://vnexpress.net/kinh-doanh-p{page}",
                          "first_page": 2, "max_pages": 5}],
        },
        "article_url": r"^/[a-z0-9-]+-(?P<id>\d{7})\.html$",
    },
    "dantri": {
        "domains": ["dantri.com.vn"],
        "start": {
            "rss": ["https://dantri.com.vn/rss/home.rss"],
            "sitemaps": ["https://dantri.com.vn/sitemaps/sitemap.xml"],
            "listings": [{"url": "https://dantri.com.vn/kinh-doanh.htm",
                          "page_url": "https://dantri.com.vn/kinh-doanh/trang-{page}.htm",
                          "first_page": 2, "max_pages": 5}],
        },
        "article_url": r"^/[a-z0-9-]+(?:/[a-z0-9-]+)?/[a-z0-9-]+-(?P<id>\d{17})\.htm$",
    },
    "tuoitre": {
        "domains": ["tuoitre.vn"],
        "start": {
            "rss": ["https://tuoitre.vn/rss/tin-moi-nhat.rss"],
            "sitemaps": ["https://tuoitre.vn/sitemap.xml"],
            "listings": [{"url": "https://tuoitre.vn/kinh-doanh.htm",
                          "page_url": "https://tuoitre.vn/timeline/11/trang-{page}.htm",
                          "first_page": 1, "max_pages": 5}],
        },
        "article_url": r"^/[a-z0-9-]+-(?P<id>\d{17})\.htm$",
    },
    "nld": {
        "domains": ["nld.com.vn"],
        "start": {
            "rss": ["https://nld.com.vn/rss/home.rss"],
            "sitemaps": ["https://nld.com.vn/sitemap.xml"],
            "listings": [{"url": "https://nld.com.vn/kinh-te.htm",
                          "page_url": "https://nld.com.vn/timelinelist/1961014/{page}.htm",
                          "first_page": 2, "max_pages": 5}],
        },
        "article_url": r"^/[a-z0-9-]+-(?P<id>\d{18})\.htm$",
    },
}


def slugify(text: str, max_words: int = 12) -> str:
    """ASCII slug the way Vietnamese sites build them (đ → d, tone marks dropped)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", text)[:max_words]
    return "-".join(words) or "tin-tuc"


def url_path(url: str) -> str:
    """Path (with query) of a configured URL; the mirror serves configured paths on its own origin."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Listing:
    path: str
    page_path: str  # contains "{page}"
    first_page: int
    max_pages: int

    def page(self, index: int) -> str:
        """Path of listing page `index` (0 = the landing page, 1 = `first_page`, ...)."""
        return self.path if index == 0 else self.page_path.format(page=self.first_page + index - 1)


@dataclass(frozen=True)
class MirrorSite:
    name: str
    domains: tuple[str, ...]
    rss: tuple[str, ...]
    sitemaps: tuple[str, ...]
    listings: tuple[Listing, ...]
    article_url: re.Pattern[str]

    def article_path(self, slug: str, when: datetime, serial: int, section_slug: str) -> tuple[str, str]:
        """(path, id) of a new article in the site's own URL scheme; checked against `article_url`."""
        stamp = when.strftime("%Y%m%d%H%M%S") + f"{serial % 1000:03d}"
        if self.name == "vnexpress":
            article_id = str(4_700_000 + serial)
            path = f"/{slug}-{article_id}.html"
        elif self.name == "dantri":
            article_id = stamp
            path = f"/{section_slug}/{slug}-{article_id}.htm"
        elif self.name == "nld":
            article_id = "196" + stamp[2:]
            path = f"/{slug}-{article_id}.htm"
        else:  # tuoitre
            article_id = stamp
            path = f"/{slug}-{article_id}.htm"
        self.check_article_path(path, article_id)
        return path, article_id

    def check_article_path(self, path: str, article_id: str) -> None:
        match = self.article_url.search(path)
        found = match.groupdict().get("id") if match else None
        if found != article_id:
            raise ValueError(f"mirror site {self.name}: path {path!r} does not give id {article_id!r} "
                             f"under article_url {self.article_url.pattern!r} (got {found!r})")

    def article_id(self, path: str) -> str | None:
        match = self.article_url.search(path)
        return match.groupdict().get("id") if match else None


def _listing(raw: dict[str, Any]) -> Listing:
    page_url = str(raw.get("page_url") or raw["url"])
    return Listing(path=url_path(str(raw["url"])), page_path=url_path(page_url),
                   first_page=int(raw.get("first_page", 2)), max_pages=int(raw.get("max_pages", 5)))


def site_from_raw(name: str, raw: dict[str, Any]) -> MirrorSite:
    """MirrorSite from a raw registry YAML mapping (missing start entries fall back to the defaults)."""
    default = DEFAULTS.get(name, {})
    start = {**default.get("start", {}), **{k: v for k, v in (raw.get("start") or {}).items() if v}}
    pattern = raw.get("article_url") or default.get("article_url")
    if isinstance(pattern, dict):  # tolerate {pattern: ..., id_group: ...} shapes
        pattern = pattern.get("pattern") or pattern.get("regex")
    if not pattern:
        raise ValueError(f"mirror site {name}: no article_url pattern")
    return MirrorSite(
        name=name,
        domains=tuple(raw.get("domains") or default.get("domains") or ()),
        rss=tuple(url_path(u) for u in start.get("rss", [])),
        sitemaps=tuple(url_path(u) for u in start.get("sitemaps", [])),
        listings=tuple(_listing(x) for x in start.get("listings", [])),
        article_url=re.compile(str(pattern)),
    )


def load_sites(names: list[str] | tuple[str, ...] | None = None, sites_dir: Path = SITES_DIR) -> list[MirrorSite]:
    """The mirrored sites, from `crawler/sites/<name>.yaml` where present, else the built-in defaults."""
    out = []
    for name in names or MIRRORED:
        if name not in MIRRORED:
            raise ValueError(f"no mirror template for site {name!r} (mirrored: {', '.join(MIRRORED)})")
        path = sites_dir / f"{name}.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
        out.append(site_from_raw(name, raw or {}))
    return out
