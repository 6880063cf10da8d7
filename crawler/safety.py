"""Refuse requests to private, loopback, link-local and cloud-metadata addresses (SSRF).

A host is allowed when it belongs to a configured site (its `domains`, which include a
mirror origin's host when `site_origins` points a site there); otherwise its address is
resolved and refused if not public. Redirects pass through the downloader middlewares
again, so every hop is checked.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

log = logging.getLogger(__name__)


class UnsafeAddress(ValueError):
    """The URL points at an address the crawler must not fetch."""


@lru_cache(maxsize=4096)
def _addresses(host: str) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return ()
    return tuple(sorted({str(info[4][0]) for info in infos}))


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return bool(ip.is_global) and not ip.is_multicast


def check_url(url: str, allowed_hosts: set[str]) -> None:
    """Raise UnsafeAddress unless `url`'s host is allowed or resolves only to public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddress(f"{url}: only http and https URLs are fetched")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeAddress(f"{url}: no host")
    if host in allowed_hosts or any(host.endswith("." + h) for h in allowed_hosts):
        return
    for address in _addresses(host):
        if not is_public_address(address):
            raise UnsafeAddress(f"{url}: {host} resolves to non-public address {address}")


class PrivateAddressGuard:
    """Downloader middleware applying `check_url` to every request, redirects included."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateAddressGuard:
        return cls(crawler)

    def process_request(self, request: Any, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        allowed = set(getattr(spider, "allowed_domains", None) or [])
        try:
            check_url(request.url, allowed)
        except UnsafeAddress as exc:
            self.crawler.stats.inc_value("newsdedup/refused_unsafe_address")
            log.warning("refused: %s", exc)
            raise IgnoreRequest(str(exc)) from None
