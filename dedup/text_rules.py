"""Boilerplate layer 1: text rules for related-news blocks and site chrome.

Works on paragraphs (extracted blocks, or the lines of a plain-text file) because that is
all a `.txt` gives us. A related-news block starts at a *heading line* — a paragraph whose
normalised form is one of `headings` ("TIN CÙNG CHỦ ĐỀ", "Tin liên quan", ..., compared
ignoring case, punctuation, spacing and all diacritics, so sites typing without accents
match too; a sentence that merely contains the words
is not a heading) — and runs over the teaser items after it:

- short title-like lines (at most `max_title_tokens` tokens, no final full stop), which
  covers "Tin tức 1" style labels;
- truncated leads ending in "..." or "…" (any length);
- photo captions ("(Ảnh: ...)", "Nguồn: ...");
- a short full-stop paragraph (at most `max_lead_tokens`) right after a teaser title, when
  another teaser item follows it or the block already had such a lead: the untruncated
  lead of a teaser ("title, lead, title, lead"). A lone title + short paragraph at the end
  is kept: it is as likely the article's own last paragraph.

Anything else — in practice a normal article paragraph — ends the block, so article text
before and after the block is kept. "Xem thêm: <title>" on one line is a block by itself.

Site chrome: a breadcrumb / date line at the very start and copyright / imprint lines at
the very end (another site's header and footer around a republished article) are removed
too, only at the edges, so they never eat article text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from dedup.normalize import normalize, to_nfc

DEFAULT_HEADINGS: tuple[str, ...] = (
    "TIN CÙNG CHỦ ĐỀ", "Tin liên quan", "Tin cùng chuyên mục", "Cùng chuyên mục", "Xem thêm",
    "Đọc thêm", "Bài liên quan", "Bài viết liên quan", "Có thể bạn quan tâm", "Bạn có thể quan tâm",
    "Tin khác", "Các tin khác", "Tin mới", "Tin mới nhất", "Tin mới hơn", "Tin cũ hơn", "Đọc tiếp",
    "Tin đọc nhiều", "Đọc nhiều nhất", "Tin nổi bật", "Tin xem nhiều", "Cùng chủ đề", "Bài cùng chủ đề",
    "Tin tức liên quan", "Tin bài liên quan", "Video liên quan", "Tin hay", "Đừng bỏ lỡ", "Mời bạn đọc thêm",
)

_SENTENCE_END = re.compile(r"[.!?;:][\s\"'”’»)\]]*$")
_FULL_STOP = re.compile(r"\.[\s\"'”’»)\]]*$")
_TRUNCATED = re.compile(r"(\.{3,}|…)[\s\"'”’»)\]]*$")
_CAPTION = re.compile(r"\((ảnh|nguồn|photo|video|clip|đồ họa|đồ hoạ)\s*:|^(ảnh|nguồn|photo)\s*:", re.I)
_LINK_PREFIX = re.compile(r"^[\s>»\-–*•·+]*")
_BREADCRUMB_SEP = re.compile(r"\s*(?:\||»|›|·|•)\s*|\s+[>/]\s+")
_DATE_LINE = re.compile(
    r"^(thứ\s+\w+|chủ\s+nhật)?[\s,]*\d{1,2}/\d{1,2}/\d{2,4}([\s,|-]*\d{1,2}[:h]\d{2})?(\s*\(?gmt[+-]\d+\)?)?\s*$",
    re.I,
)
_FOOTER_MARKERS = (
    "©", "bản quyền", "copyright", "all rights reserved", "ghi rõ nguồn", "giấy phép", "tổng biên tập",
    "cơ quan chủ quản", "chịu trách nhiệm nội dung", "liên hệ quảng cáo", "hotline", "email:",
    "địa chỉ:", "điện thoại:", "tòa soạn:", "toà soạn:",
)


def heading_key(line: str) -> str:
    """Normalised line without any diacritics: 'TIN LIÊN QUAN:' == 'Tin lien quan'."""
    bare = unicodedata.normalize("NFD", normalize(line))
    return "".join(c for c in bare if not unicodedata.combining(c)).replace("đ", "d")


@dataclass(frozen=True)
class TextRules:
    """Configuration of the text-level boilerplate rules."""

    headings: Sequence[str] = DEFAULT_HEADINGS
    max_title_tokens: int = 30
    max_lead_tokens: int = 60
    _norm: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_norm", frozenset(heading_key(h) for h in self.headings))

    def is_heading(self, line: str) -> bool:
        """The whole line is a related-news heading (case, diacritics, punctuation ignored)."""
        return len(line) <= 80 and heading_key(line) in self._norm

    def inline_link(self, line: str) -> bool:
        """'Xem thêm: <title>' / '>> Tin liên quan: <title>' on one line."""
        text = _LINK_PREFIX.sub("", line)
        head, sep, rest = text.partition(":")
        return bool(sep and rest.strip()) and self.is_heading(head) and self.title_like(rest)

    def title_like(self, line: str) -> bool:
        return len(normalize(line).split()) <= self.max_title_tokens and not _FULL_STOP.search(line)


DEFAULT_RULES = TextRules()


@dataclass(frozen=True)
class CleanText:
    """A plain text after the text rules: title (or None), body paragraphs, blocks dropped."""

    title: str | None
    paragraphs: list[str]
    removed_blocks: int

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _teaser_item(line: str, rules: TextRules) -> bool:
    return bool(_TRUNCATED.search(line) or _CAPTION.search(line)) or rules.title_like(line)


def _block_end(paragraphs: Sequence[str], start: int, rules: TextRules) -> int:
    """Index just past the related block whose heading is at `start`."""
    i = start + 1
    after_title = True
    leads = 0  # untruncated teaser leads consumed so far
    n = len(paragraphs)
    while i < n:
        line = paragraphs[i]
        if rules.is_heading(line):
            break
        if _TRUNCATED.search(line) or _CAPTION.search(line):
            after_title = False
        elif rules.title_like(line):
            after_title = True
        elif (
            after_title
            and len(normalize(line).split()) <= rules.max_lead_tokens
            and (leads or (i + 1 < n and (_teaser_item(paragraphs[i + 1], rules) or rules.is_heading(paragraphs[i + 1]))))
        ):
            after_title = False
            leads += 1
        else:
            break
        i += 1
    return i


def strip_related_blocks(paragraphs: Sequence[str], rules: TextRules = DEFAULT_RULES) -> tuple[list[str], int]:
    """Drop related-news blocks (heading + teasers); returns (kept paragraphs, blocks removed)."""
    kept: list[str] = []
    removed = 0
    i = 0
    n = len(paragraphs)
    while i < n:
        line = paragraphs[i]
        if rules.is_heading(line):
            i = _block_end(paragraphs, i, rules)
            removed += 1
        elif rules.inline_link(line):
            i += 1
            removed += 1
        else:
            kept.append(line)
            i += 1
    return kept, removed


def _breadcrumb(line: str) -> bool:
    parts = [p for p in _BREADCRUMB_SEP.split(line) if p.strip()]
    return len(parts) >= 3 and all(len(normalize(p).split()) <= 6 for p in parts)


def _footer(line: str) -> bool:
    low = to_nfc(line).lower()
    return len(low) <= 300 and any(marker in low for marker in _FOOTER_MARKERS)


def strip_site_chrome(paragraphs: Sequence[str]) -> tuple[list[str], int]:
    """Drop breadcrumb/date header lines at the start and imprint/copyright lines at the end."""
    start, end = 0, len(paragraphs)
    while start < end and (_breadcrumb(paragraphs[start]) or _DATE_LINE.match(to_nfc(paragraphs[start]))):
        start += 1
    stop = end
    while stop > start and (_footer(paragraphs[stop - 1]) or _breadcrumb(paragraphs[stop - 1])):
        stop -= 1
    removed = (start > 0) + (stop < end)
    return list(paragraphs[start:stop]), removed


def split_paragraphs(text: str) -> list[str]:
    """Non-empty lines of a plain text, stripped, each a paragraph."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def reads_as_headline(line: str, rules: TextRules = DEFAULT_RULES) -> bool:
    """Short, no final sentence punctuation (a question mark is allowed), not a heading."""
    stripped = line.rstrip()
    if stripped.endswith("?") or stripped.endswith("!"):
        stripped = stripped[:-1]
    return (
        0 < len(normalize(line).split()) <= rules.max_title_tokens
        and not _SENTENCE_END.search(stripped)
        and not rules.is_heading(line)
    )


def clean_paragraphs(paragraphs: Sequence[str], rules: TextRules = DEFAULT_RULES) -> tuple[list[str], int]:
    """Site chrome then related blocks, on extracted paragraphs."""
    body, chrome = strip_site_chrome(paragraphs)
    body, related = strip_related_blocks(body, rules)
    return body, chrome + related


def clean_plain_text(text: str, rules: TextRules = DEFAULT_RULES) -> CleanText:
    """Plain text -> title (first line, when it reads as a headline), paragraphs, blocks removed."""
    paragraphs, chrome = strip_site_chrome(split_paragraphs(to_nfc(text)))
    title = None
    if len(paragraphs) > 1 and reads_as_headline(paragraphs[0], rules):
        title, paragraphs = paragraphs[0], paragraphs[1:]
    body, related = strip_related_blocks(paragraphs, rules)
    return CleanText(title=title, paragraphs=body, removed_blocks=chrome + related)
