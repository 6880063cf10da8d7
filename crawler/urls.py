"""URL canonicalisation and document ids: one article, one id, whatever link led to it."""

from __future__ import annotations

import re

import xxhash
from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that only track the visitor; they never change the article.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|yclid|mc_cid|mc_eid|_ga|zarsrc|zacc|gidzl|itm_\w+|"
    r"ref|ref_src|source|from|cmpid|icid|s_cid|vn_source|vn_medium|vn_campaign|vn_content|vn_term)$",
    re.IGNORECASE,
)


def canonical_url(url: str) -> str:
    """Strip tracking parameters and fragments, sort the query, normalise escaping."""
    from urllib.parse import parse_qsl, urlsplit

    query_keys = [k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    drop = [k for k in query_keys if TRACKING_PARAMS.match(k)]
    if drop:
        url = url_query_cleaner(url, drop, remove=True, keep_fragments=False)
    return canonicalize_url(url, keep_fragments=False)


def document_id(site: str, article_id: str | None, canonical: str) -> str:
    """`site:article-id` when the site numbers its articles, else `site:u<hash of canonical URL>`."""
    if article_id:
        return f"{site}:{article_id}"
    return f"{site}:u{xxhash.xxh3_64_hexdigest(canonical.encode('utf-8'))}"
