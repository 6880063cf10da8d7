"""Site-rule article extraction (YAML rules, JSON-LD / meta fallbacks, generic fallback),
Vietnamese date parsing and charset handling."""

from crawler.extract.article import ExtractedArticle, extract_article
from crawler.extract.charset import decode_html
from crawler.extract.dates import VN_TZ, parse_vn_datetime

__all__ = ["VN_TZ", "ExtractedArticle", "decode_html", "extract_article", "parse_vn_datetime"]
