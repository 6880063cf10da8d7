"""Site registry: one YAML file per news site, validated by pydantic at load time.

Adding a site is a YAML file in ``crawler/sites/`` (or in a user directory passed to
:func:`load_sites`), never Python. A broken file fails loudly with the file name and
the offending field, so a typo cannot silently disable a site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SITES_DIR = Path(__file__).resolve().parent / "sites"
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
XPATH_PREFIX = "xpath:"


class SiteConfigError(ValueError):
    """A site YAML file is missing, unreadable or fails the schema."""


def _as_list(value: Any) -> Any:
    """Rules accept one string or a list of strings (first that yields wins)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def is_xpath(rule: str) -> bool:
    """XPath rules start with '/', '(' or 'xpath:'; everything else is CSS."""
    return rule.startswith(("/", "(", XPATH_PREFIX))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Listing(_Model):
    """A listing page and its pagination pattern (``{page}`` is the page number)."""

    url: str
    page_url: str | None = None
    first_page: int = Field(2, ge=0)
    max_pages: int = Field(3, ge=0)

    @field_validator("page_url")
    @classmethod
    def _has_placeholder(cls, v: str | None) -> str | None:
        if v is not None and "{page}" not in v:
            raise ValueError("page_url must contain '{page}'")
        return v

    def page_urls(self) -> list[str]:
        """The listing's own URL followed by its next pages, in order."""
        pages = [self.url]
        if self.page_url:
            pages += [self.page_url.format(page=n) for n in range(self.first_page, self.first_page + self.max_pages)]
        return pages


class Start(_Model):
    """Discovery entry points: feeds, sitemaps, paginated listings."""

    rss: list[str] = []
    sitemaps: list[str] = []
    listings: list[Listing] = []

    _rss = field_validator("rss", "sitemaps", mode="before")(_as_list)


class Schedule(_Model):
    """How often discovery runs for the site: ``interval`` ("30m", "2h") or ``cron``."""

    interval: str | None = None
    cron: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.interval is None) == (self.cron is None):
            raise ValueError("give exactly one of 'interval' or 'cron'")
        if self.interval is not None and not _INTERVAL.match(self.interval):
            raise ValueError(f"interval {self.interval!r} is not like '30m', '2h', '90s', '1d'")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"cron {self.cron!r} must have 5 fields")
        return self

    @property
    def seconds(self) -> float | None:
        """The interval in seconds (None for cron schedules)."""
        m = _INTERVAL.match(self.interval or "")
        return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}).total_seconds() if m else None


class ExtractRules(_Model):
    """Selectors for one site. Each rule is a list: the first selector that yields wins.

    Value rules (title … tags) may be CSS (``::text`` / ``::attr(name)`` suffixes allowed)
    or XPath. Structural rules (body, paragraphs, images, image_caption, remove) are CSS:
    they act on the fast DOM that is cleaned in place.
    """

    title: list[str] = []
    sapo: list[str] = []
    body: list[str] = []
    paragraphs: str | None = None  # CSS inside body; default: walk block elements
    authors: list[str] = []
    published: list[str] = []
    updated: list[str] = []
    category: list[str] = []
    tags: list[str] = []
    images: str = "figure"  # CSS inside body: one element per image
    image_caption: str = "figcaption, .caption, .PhotoCMS_Caption"
    remove: list[str] = []
    remove_text: list[str] = []  # regexes: body paragraphs matching are dropped
    sapo_prefix: list[str] = []  # regexes stripped from the start of sapo / first paragraph
    date_formats: list[str] = []  # strptime patterns for visible dates
    month_first: bool = False
    split_authors: str = r"\s*(?:,|;|\s-\s|\s–\s|&|\bvà\b)\s*"

    _lists = field_validator(
        "title", "sapo", "body", "authors", "published", "updated", "category", "tags", "remove",
        "remove_text", "sapo_prefix", "date_formats", mode="before",
    )(_as_list)

    @field_validator("body", "remove")
    @classmethod
    def _css_only(cls, v: list[str]) -> list[str]:
        for rule in v:
            if is_xpath(rule):
                raise ValueError(f"{rule!r}: structural rules must be CSS selectors")
        return v

    @field_validator("remove_text", "sapo_prefix", "split_authors")
    @classmethod
    def _regexes(cls, v: Any) -> Any:
        for pattern in [v] if isinstance(v, str) else v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from exc
        return v


class SiteConfig(_Model):
    """One news site: where to discover articles, which URLs are articles, how to read them."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    display_name: str
    language: str = "vi"
    domains: list[str] = Field(min_length=1)
    start: Start = Start()
    article_url: str
    schedule: Schedule = Schedule(interval="30m")
    extract: ExtractRules = ExtractRules()
    notes: str = ""

    @field_validator("domains")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        out = []
        for d in v:
            d = d.strip().lower().lstrip(".")
            if not d or "/" in d:
                raise ValueError(f"domain {d!r} must be a bare host name")
            out.append(d)
        return out

    @field_validator("article_url")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            compiled = re.compile(v)
        except re.error as exc:
            raise ValueError(f"bad regex: {exc}") from exc
        if "id" not in compiled.groupindex:
            raise ValueError("article_url needs a named group (?P<id>...)")
        return v

    @cached_property
    def article_re(self) -> re.Pattern[str]:
        return re.compile(self.article_url)

    def owns_host(self, host: str | None) -> bool:
        """True for the site's domains and their subdomains."""
        host = (host or "").lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def owns_url(self, url: str) -> bool:
        return self.owns_host(urlsplit(url).hostname)

    def article_id(self, url: str) -> str | None:
        """The site's own article id from an article URL, None for other URLs."""
        if not self.owns_url(url):
            return None
        m = self.article_re.search(urlsplit(url).path)
        return m.group("id") if m else None

    def is_article_url(self, url: str) -> bool:
        return self.article_id(url) is not None

    @staticmethod
    def site_for_url(url: str | None, registry: SiteRegistry | None = None) -> SiteConfig | None:
        """The registered site covering ``url``'s host (packaged registry by default)."""
        return site_for_url(url, registry)

    def with_origin(self, origin: str) -> SiteConfig:
        """Same site with every start URL moved to ``origin`` (scheme://host[:port]), e.g. a mirror."""
        parts = urlsplit(origin)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"origin {origin!r} must look like http://host:port")

        def move(url: str) -> str:
            u = urlsplit(url)
            return urlunsplit((parts.scheme, parts.netloc, u.path, u.query, u.fragment))

        start = Start(
            rss=[move(u) for u in self.start.rss],
            sitemaps=[move(u) for u in self.start.sitemaps],
            listings=[
                lst.model_copy(update={"url": move(lst.url), "page_url": move(lst.page_url) if lst.page_url else None})
                for lst in self.start.listings
            ],
        )
        host = (parts.hostname or "").lower()
        domains = self.domains if host in self.domains else [*self.domains, host]
        return self.model_copy(update={"start": start, "domains": domains})


def load_site_file(path: Path) -> SiteConfig:
    """Load and validate one YAML file; errors name the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SiteConfigError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SiteConfigError(f"{path}: top level must be a mapping")
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise SiteConfigError(f"{path}: {problems}") from exc
    if site.name != path.stem:
        raise SiteConfigError(f"{path}: name: {site.name!r} must equal the file stem {path.stem!r}")
    return site


def load_sites(extra_dirs: Iterable[str | Path] = ()) -> dict[str, SiteConfig]:
    """All sites: the package's ``sites/`` then each extra directory (later files override)."""
    sites: dict[str, SiteConfig] = {}
    for directory in [SITES_DIR, *map(Path, extra_dirs)]:
        if not directory.is_dir():
            raise SiteConfigError(f"{directory}: not a directory")
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            site = load_site_file(path)
            sites[site.name] = site
    return sites


class SiteRegistry:
    """Lookup of sites by name, host or URL (longest matching domain wins)."""

    def __init__(self, sites: dict[str, SiteConfig]) -> None:
        self.sites = dict(sites)

    @classmethod
    def load(cls, extra_dirs: Iterable[str | Path] = ()) -> SiteRegistry:
        return cls(load_sites(extra_dirs))

    def __getitem__(self, name: str) -> SiteConfig:
        return self.sites[name]

    def __iter__(self) -> Any:
        return iter(self.sites.values())

    def __len__(self) -> int:
        return len(self.sites)

    def for_host(self, host: str | None) -> SiteConfig | None:
        host = (host or "").lower().rstrip(".")
        best: tuple[int, SiteConfig] | None = None
        for site in self.sites.values():
            for d in site.domains:
                if (host == d or host.endswith("." + d)) and (best is None or len(d) > best[0]):
                    best = (len(d), site)
        return best[1] if best else None

    def for_url(self, url: str | None) -> SiteConfig | None:
        return self.for_host(urlsplit(url).hostname) if url else None


_DEFAULT: SiteRegistry | None = None


def default_registry() -> SiteRegistry:
    """The packaged sites, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = SiteRegistry.load()
    return _DEFAULT


def site_for_url(url: str | None, registry: SiteRegistry | None = None) -> SiteConfig | None:
    """The site whose domains cover ``url``'s host (packaged registry by default)."""
    return (registry or default_registry()).for_url(url)
