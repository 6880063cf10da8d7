"""What the mirror serves: article texts spread over the mirror sites, with syndicated copies
(verbatim, truncated, lightly edited) and later versions, so crawl + dedup meet real-life cases.

Content is plain data; HTML is rendered per request by `render.py` once the origins are known.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from .sites import MirrorSite, load_sites, slugify

VN_TZ = timezone(timedelta(hours=7))

CATEGORIES = (
    ("Thời sự", "thoi-su"), ("Thế giới", "the-gioi"), ("Kinh doanh", "kinh-doanh"),
    ("Xã hội", "xa-hoi"), ("Giáo dục", "giao-duc"), ("Sức khỏe", "suc-khoe"),
    ("Thể thao", "the-thao"), ("Công nghệ", "cong-nghe"), ("Văn hóa", "van-hoa"),
    ("Pháp luật", "phap-luat"),
)
AUTHORS = ("Minh Anh", "Hoàng Nam", "Thu Hà", "Quốc Việt", "Lan Phương", "Đức Huy", "Ngọc Mai",
           "Trần Bình", "Phạm Linh", "Hải Đăng")
SITE_LABELS = {"vnexpress": "VnExpress", "dantri": "Dân trí", "tuoitre": "Tuổi Trẻ", "nld": "Người Lao Động"}


@dataclass(frozen=True)
class ArticleText:
    """One story as text: what a writer produced, before any site puts its template around it."""

    title: str
    lead: str
    paragraphs: tuple[str, ...]
    category: str = ""
    tags: tuple[str, ...] = ()
    caption: str = ""
    author: str = ""
    key: str = ""


@dataclass
class Version:
    title: str
    lead: str
    paragraphs: tuple[str, ...]
    modified: datetime


@dataclass
class MirrorArticle:
    """One article page on one mirror site; `versions[current]` is what the server returns."""

    site: str
    article_id: str
    path: str
    story: str
    variant: str  # original | copy | truncated | edited
    category: str
    section_slug: str
    author: str
    tags: tuple[str, ...]
    caption: str
    published: datetime
    versions: list[Version]
    current: int = 0
    source_site: str = ""  # for syndicated copies: the site the story came from
    related: list[MirrorArticle] = field(default_factory=list, repr=False)

    @property
    def version(self) -> Version:
        return self.versions[self.current]

    @property
    def version_number(self) -> int:
        return self.current + 1


@dataclass
class MirrorContent:
    sites: list[MirrorSite]
    articles: dict[str, list[MirrorArticle]]  # site name -> newest first

    def find(self, site: str, article_id: str) -> MirrorArticle:
        for article in self.articles.get(site, []):
            if article.article_id == article_id:
                return article
        raise KeyError(f"no article {article_id!r} on mirror site {site!r}")

    def stories(self) -> dict[str, list[MirrorArticle]]:
        """Story key -> every page carrying it (the original and its syndicated copies)."""
        out: dict[str, list[MirrorArticle]] = {}
        for pages in self.articles.values():
            for article in pages:
                out.setdefault(article.story, []).append(article)
        return out


def truncate(paragraphs: Sequence[str], share: float = 0.7) -> tuple[str, ...]:
    """The first `share` of the words, cut at a sentence end: how partial syndication looks."""
    words_total = sum(len(p.split()) for p in paragraphs)
    budget = max(1, int(words_total * share))
    out: list[str] = []
    for para in paragraphs:
        words = para.split()
        if len(words) <= budget:
            out.append(para)
            budget -= len(words)
            continue
        cut = " ".join(words[:budget])
        end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
        if end > 0:
            out.append(cut[: end + 1])
        elif cut:
            out.append(cut + "...")
        break
    return tuple(out)


_FILLERS = ("cũng", "đã", "vẫn", "nay", "rất", "thêm", "hiện", "đều")


def light_edit(paragraphs: Sequence[str], rng: random.Random, rate: float = 0.1) -> tuple[str, ...]:
    """Change about `rate` of the words (drop, insert a filler, swap neighbours): a copy-editor's pass."""
    out = []
    for para in paragraphs:
        words = para.split()
        i = 0
        edited: list[str] = []
        while i < len(words):
            roll = rng.random()
            if roll < rate / 3 and len(words) > 5:
                i += 1  # drop
                continue
            if roll < 2 * rate / 3:
                edited.append(rng.choice(_FILLERS))
            if roll > 1 - rate / 3 and i + 1 < len(words):
                edited.extend((words[i + 1], words[i]))
                i += 2
                continue
            edited.append(words[i])
            i += 1
        out.append(" ".join(edited))
    return tuple(out)


def updated_text(version: Version, when: datetime) -> Version:
    """Next version of an article: a corrected figure and an update paragraph, as newsrooms do."""
    paragraphs = list(version.paragraphs)
    if paragraphs:
        paragraphs[0] = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), paragraphs[0], count=1)
    stamp = when.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m")
    paragraphs.append(f"Cập nhật lúc {stamp}: cơ quan chức năng cho biết đang tiếp tục xác minh thêm "
                      f"thông tin liên quan và sẽ công bố kết quả trong thời gian sớm nhất.")
    return Version(title=version.title, lead=version.lead, paragraphs=tuple(paragraphs), modified=when)


def build_mirror(
    articles: Sequence[ArticleText],
    sites: Sequence[MirrorSite] | None = None,
    *,
    seed: int = 7,
    syndicate: float = 0.3,
    prepared_updates: float = 0.1,
    now: datetime | None = None,
) -> MirrorContent:
    """Spread `articles` over `sites` round-robin; syndicate a share of them to other sites.

    `prepared_updates` of the originals get a second version up front (served once
    `MirrorServer.update_article` switches to it). Dates run back from `now` (default: the
    current hour) so ids, feeds and news sitemaps look fresh.
    """
    site_list = list(sites) if sites is not None else load_sites()
    if not site_list:
        raise ValueError("build_mirror needs at least one site")
    rng = random.Random(seed)
    now = (now or datetime.now(VN_TZ).replace(minute=0, second=0, microsecond=0)).astimezone(VN_TZ)
    by_site: dict[str, list[MirrorArticle]] = {s.name: [] for s in site_list}
    serial = 0
    for index, text in enumerate(articles):
        if not text.paragraphs:
            continue
        story = text.key or f"s{index:05d}"
        category = text.category or CATEGORIES[index % len(CATEGORIES)][0]
        home = site_list[index % len(site_list)]
        published = now - timedelta(minutes=37 * index + 5)
        placements = [(home, "original", text.paragraphs, text.title)]
        if len(site_list) > 1 and rng.random() < syndicate:
            others = [s for s in site_list if s is not home]
            for other in rng.sample(others, k=min(len(others), 1 + (rng.random() < 0.3))):
                kind = rng.choice(("copy", "truncated", "edited"))
                paras = {"copy": text.paragraphs, "truncated": truncate(text.paragraphs),
                         "edited": light_edit(text.paragraphs, rng)}[kind]
                placements.append((other, kind, paras, text.title))
        for offset, (site, kind, paras, title) in enumerate(placements):
            serial += 1
            when = published + timedelta(minutes=45 * offset, seconds=serial % 60)
            section_slug = dict(CATEGORIES).get(category, slugify(category))
            path, article_id = site.article_path(slugify(title), when, serial, section_slug)
            lead = text.lead or (paras[0] if len(paras) > 1 else "")
            body = paras[1:] if not text.lead and len(paras) > 1 else paras
            if kind != "original":
                body = (*body, f"Theo {SITE_LABELS.get(home.name, home.name)}")
            first = Version(title=title, lead=lead, paragraphs=tuple(body), modified=when)
            page = MirrorArticle(
                site=site.name, article_id=article_id, path=path, story=story, variant=kind,
                category=category, section_slug=section_slug,
                author=text.author or AUTHORS[(index + offset) % len(AUTHORS)], tags=text.tags,
                caption=text.caption, published=when, versions=[first],
                source_site=home.name if kind != "original" else "",
            )
            if kind == "original" and rng.random() < prepared_updates:
                page.versions.append(updated_text(first, when + timedelta(hours=3)))
            by_site[site.name].append(page)
    for pages in by_site.values():
        pages.sort(key=lambda a: a.published, reverse=True)
        _link_related(pages)
    return MirrorContent(sites=site_list, articles=by_site)


def _link_related(pages: list[MirrorArticle]) -> None:
    """Each page teases up to three other pages of its site (same category first)."""
    for i, page in enumerate(pages):
        same = [p for p in pages if p is not page and p.category == page.category][:3]
        rest = [pages[(i + k) % len(pages)] for k in range(1, 6) if pages[(i + k) % len(pages)] is not page]
        page.related = (same + [p for p in rest if p not in same])[:3]


def demo_articles() -> list[ArticleText]:
    """The demo stories shipped in the package (the two seed texts and short original articles)."""
    raw = resources.files(__package__).joinpath("data/demo_articles.json").read_text(encoding="utf-8")
    return [ArticleText(**{**item, "paragraphs": tuple(item["paragraphs"]), "tags": tuple(item.get("tags", ()))})
            for item in json.loads(raw)]


_CATEGORY_WORDS = (
    ("Thể thao", ("bóng đá", "cầu thủ", "HLV", "V-League", "giải đấu", "tuyển", "trận")),
    ("Kinh doanh", ("giá", "doanh nghiệp", "ngân hàng", "xuất khẩu", "tỷ đồng", "thị trường", "chứng khoán")),
    ("Pháp luật", ("công an", "bắt giữ", "tòa án", "khởi tố", "lừa đảo", "điều tra")),
    ("Thế giới", ("Mỹ", "Trung Quốc", "Nga", "Triều Tiên", "Tổng thống", "châu Âu", "Nhật Bản")),
    ("Sức khỏe", ("bệnh", "bác sĩ", "sức khỏe", "bệnh viện", "điều trị")),
    ("Giáo dục", ("học sinh", "trường", "giáo viên", "tuyển sinh", "sinh viên")),
    ("Công nghệ", ("điện thoại", "công nghệ", "smartphone", "ứng dụng", "Internet", "xe")),
)


def guess_category(title: str, text: str) -> str:
    """A plausible section for a corpus article without one (keyword vote over title + opening)."""
    sample = f"{title} {title} {text[:600]}"
    scores = [(sum(sample.count(w) for w in words), name) for name, words in _CATEGORY_WORDS]
    best = max(scores)
    return best[1] if best[0] > 0 else "Xã hội"


def baomoi_articles(path: str | Path, limit: int | None = None, min_paragraphs: int = 3) -> list[ArticleText]:
    """Articles read at run time from the baomoi corpus (never copied into the repo)."""
    out: list[ArticleText] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            paragraphs = tuple(p.strip() for p in str(item.get("text", "")).split("\n") if p.strip())
            title = str(item.get("title", "")).strip()
            long_ones = [p for p in paragraphs if len(p) >= 80]
            if not title or len(paragraphs) < min_paragraphs or len(long_ones) < min_paragraphs:
                continue
            out.append(ArticleText(title=title, lead=str(item.get("lead") or "").strip(),
                                   paragraphs=paragraphs, key=f"baomoi-{item.get('id')}",
                                   caption=f"{title} (Ảnh minh họa)",
                                   category=guess_category(title, " ".join(paragraphs))))
            if limit is not None and len(out) >= limit:
                break
    return out


def mirror_from_baomoi(path: str | Path, per_site: int = 200, sites: Sequence[MirrorSite] | None = None, *,
                       seed: int = 7, syndicate: float = 0.3, prepared_updates: float = 0.1,
                       now: datetime | None = None) -> MirrorContent:
    """A mirror whose sites carry about `per_site` original baomoi articles each (plus copies)."""
    site_list = list(sites) if sites is not None else load_sites()
    texts = baomoi_articles(path, limit=per_site * len(site_list))
    return build_mirror(texts, site_list, seed=seed, syndicate=syndicate, prepared_updates=prepared_updates,
                        now=now)


def demo_mirror(sites: Sequence[MirrorSite] | None = None, *, seed: int = 7, syndicate: float = 0.5,
                now: datetime | None = None) -> MirrorContent:
    """The packaged demo content on the mirrored sites (more syndication: it is a small set)."""
    return build_mirror(demo_articles(), sites, seed=seed, syndicate=syndicate, now=now)
