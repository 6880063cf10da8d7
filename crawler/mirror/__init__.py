"""Local mirror of Vietnamese news sites for tests, benchmarks and `newsdedup demo`.

Each mirrored site (vnexpress, dantri, tuoitre, nld) is served on its own 127.0.0.1 port with the
paths of its registry YAML (RSS, sitemap index + urlset + Google News sitemap, paginated listings,
article pages in the site's real DOM), robots.txt, syndicated copies across sites, article updates
and a set of broken responses under `/_bad/`.
"""

from .content import (
    ArticleText,
    MirrorArticle,
    MirrorContent,
    baomoi_articles,
    build_mirror,
    demo_articles,
    demo_mirror,
    mirror_from_baomoi,
)
from .failures import KINDS as FAILURE_KINDS
from .server import ExpectedArticle, MirrorServer
from .sites import MIRRORED, MirrorSite, load_sites

__all__ = [
    "FAILURE_KINDS",
    "MIRRORED",
    "ArticleText",
    "ExpectedArticle",
    "MirrorArticle",
    "MirrorContent",
    "MirrorServer",
    "MirrorSite",
    "baomoi_articles",
    "build_mirror",
    "demo_articles",
    "demo_mirror",
    "load_sites",
    "mirror_from_baomoi",
]
