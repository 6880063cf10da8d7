"""Main-text extraction by paragraph density: find the container where prose clusters.

Readability-style scoring on an lxml tree, tuned for news: paragraphs vote for their
ancestors, the best-scoring container wins (penalised by link density), sibling and
same-class containers join it (bodies split by ads), and the text is linearised in
document order with link-heavy and boilerplate lines dropped. Cheap by design (one
pass over the tree, a few ms per page) because the generic path runs on every fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement

# Removed before scoring: never part of an article body.
JUNK_TAGS = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
    "button", "select", "input", "textarea", "nav", "aside", "footer", "figcaption", "head",
    "dialog", "menu", "video", "audio", "map", "math",
)  # fmt: skip
# Elements that start a new line of text when linearising.
BLOCK_TAGS = frozenset(
    (
        "address", "article", "blockquote", "br", "dd", "details", "div", "dl", "dt", "fieldset",
        "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    )
)  # fmt: skip
PARA_TAGS = ("p", "pre", "blockquote", "td", "dd")
HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))

UNLIKELY = re.compile(
    r"-ad-|\bads?\b|advert|ai2html|banner|breadcrumb|combx|comment|community|cover-wrap|disqus|"
    r"extra|footer|gdpr|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|"
    r"social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|share|"
    r"newsletter|subscri|signup|promo|outbrain|taboola|recommend|trending|most-?popular|"
    r"read-?more|more-?stories|author-?bio|byline|caption|credit|tags?\b|toolbar|modal|cookie|"
    r"rollover|tooltip|hidden|visually-hidden|sr-only|print-only|masthead|topbar|widget|consent|privacy|"
    r"\bimage\b|\bphoto|gallery|slideshow",
    re.IGNORECASE,
)
MAYBE = re.compile(r"and|article|body|column|content|main|shadow|story|entry|post-?text|text", re.I)
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

BOILERPLATE_LINE = re.compile(
    r"^(?:advertisement|ad|sponsored|related(?: articles| stories| posts)?|read more|see also|"
    r"more from .{0,40}|share(?: this)?(?: article| story)?|tweet|email|print|comments?|"
    r"(?:sign up|subscribe)\b.{0,80}|follow us\b.{0,60}|click here\b.{0,80}|"
    r"thanks? (?:you )?for (?:signing up|subscribing)\b.{0,60}|"
    r"(?:all rights reserved|copyright|©).{0,120}|.{0,120}(?:all rights reserved)\.?|"
    r"xem thêm.{0,80}|tin liên quan|tin cùng chuyên mục|tin cùng chủ đề|"
    r"order reprints|print article)$",
    re.IGNORECASE,
)


BARE_URL = re.compile(r"^(?:https?://|www\.)\S+$")


def _attr_key(el: HtmlElement) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}"


@lru_cache(maxsize=8192)
def _unlikely(key: str) -> bool:
    """Boilerplate-named and not content-named (cached: class strings repeat a lot)."""
    return bool(UNLIKELY.search(key)) and not MAYBE.search(key)


def _is_hidden(el: HtmlElement) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return bool(style and HIDDEN_STYLE.search(style))


def clean_tree(root: HtmlElement, strip_unlikely: bool) -> None:
    """Drop junk tags, hidden elements and (optionally) boilerplate-named containers."""
    etree.strip_elements(root, *JUNK_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    doomed = []
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str) or tag in ("html", "body", "a", "article", "main"):
            continue
        if _is_hidden(el):
            doomed.append(el)
            continue
        if strip_unlikely:
            key = _attr_key(el)
            if len(key) > 1 and _unlikely(key):
                doomed.append(el)
    for el in doomed:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)  # tail text of a removed block is usually layout glue; keep it short
            if el.tail and el.tail.strip():
                prev = el.getprevious()
                if prev is not None:
                    prev.tail = (prev.tail or "") + el.tail
                else:
                    parent.text = (parent.text or "") + el.tail


def _norm(text: str) -> str:
    return " ".join(text.split())


def _link_density(el: HtmlElement, text_len: int) -> float:
    if not text_len:
        return 1.0
    links = sum(len(_norm(a.text_content())) for a in el.iter("a"))
    return min(1.0, links / text_len)


def para_score(text: str, n: int) -> float:
    """Readability's vote (commas + length), with caps so neither alone decides."""
    return 1 + min(text.count(",") + text.count("،"), MAX_COMMAS) + min(n / 100, MAX_LEN)


MAX_COMMAS, MAX_LEN = 10, 10
# Repeated short lines (table rows, "Meal 1") are content; repeated long ones are page echoes.
DEDUPE_MIN = 80


def score_candidates(root: HtmlElement) -> tuple[dict[HtmlElement, float], dict[HtmlElement, int]]:
    """Paragraphs vote for parent (1), grandparent (1/2) and great-grandparent (1/6).

    Also returns, for every ancestor, how many characters of link-free prose it holds,
    which :func:`_promote` uses to climb from a dense chunk to the whole body.
    """
    scores: dict[HtmlElement, float] = {}
    prose: dict[HtmlElement, int] = {}
    for el in root.iter(*PARA_TAGS, "div", "section"):
        if el.tag in ("div", "section"):
            # a div holding prose directly (text nodes or <br>-separated) acts as a paragraph
            if any(d.tag in BLOCK_TAGS and d.tag != "br" for d in el.iterdescendants()):
                own = (el.text or "") + "".join(c.tail or "" for c in el if c.tag not in PARA_TAGS)
            else:  # a leaf block: its inline children (spans, em) are its text
                own = el.text_content()
            if len(own.strip()) < 25:
                continue
            text, links = own, 0
        else:
            text = el.text_content()
            links = sum(len(a.text_content().strip()) for a in el.iter("a"))
        n = len(text.strip())
        if n < 25:
            continue
        score = para_score(text, n)
        node, divider = el.getparent(), 1.0
        for level in range(3):
            if node is None or not isinstance(node.tag, str) or node.tag == "html":
                break
            scores[node] = scores.get(node, 0.0) + score / divider
            divider = 2.0 if level == 0 else 6.0
            node = node.getparent()
        clean = max(0, n - links)
        if clean > n // 2:
            prose[el] = prose.get(el, 0) + clean
            for anc in el.iterancestors():
                prose[anc] = prose.get(anc, 0) + clean
    return scores, prose


def _promote(top: HtmlElement, prose: dict[HtmlElement, int]) -> HtmlElement:
    """Climb to an ancestor while what it adds is mostly prose (the rest of a split body)."""
    best, best_len = top, len(_norm(top.text_content()))
    node = top.getparent()
    for _ in range(PROMOTE_LEVELS):
        if node is None or node.tag in ("body", "html"):
            break
        length = len(_norm(node.text_content()))
        added = length - best_len
        added_prose = prose.get(node, 0) - prose.get(best, 0)
        if added > 0 and added_prose >= PROMOTE_RATIO * added and added_prose >= PROMOTE_GAIN * best_len:
            best, best_len = node, length
        elif added > 0:
            break
        node = node.getparent()
    return best


PROMOTE_LEVELS, PROMOTE_RATIO, PROMOTE_GAIN = 4, 0.8, 0.2


def pick_containers(root: HtmlElement) -> list[HtmlElement]:
    """Best container, plus siblings and same-class elements that also carry prose."""
    scores, prose = score_candidates(root)
    if not scores:
        return []
    final: dict[HtmlElement, float] = {}
    for el, s in sorted(scores.items(), key=lambda kv: -kv[1])[:12]:
        final[el] = s * (1 - _link_density(el, len(_norm(el.text_content()))))
    top = max(final, key=final.__getitem__)
    top_score = final[top]
    top = _promote(top, prose)
    picked = [top]
    parent = top.getparent()
    threshold = max(10.0, top_score * 0.2)
    top_class = top.get("class")
    if parent is not None:
        for sib in parent:
            if sib is top or not isinstance(sib.tag, str):
                continue
            s = scores.get(sib, 0.0)
            text = _norm(sib.text_content())
            same_class = bool(top_class) and sib.get("class") == top_class and s > 0
            prose_p = sib.tag == "p" and len(text) > 80 and _link_density(sib, len(text)) < 0.25
            if same_class or s >= threshold or prose_p:
                picked.append(sib)
    if top_class:  # bodies split into several same-class chunks by ads or widgets
        for el in root.iter(top.tag):
            if (
                el.get("class") == top_class
                and el not in picked
                and scores.get(el, 0.0) > 0
                and not any(p in el.iterancestors() or el in p.iterancestors() for p in picked)
            ):
                picked.append(el)
    order = {el: i for i, el in enumerate(root.iter())}
    return sorted(picked, key=lambda e: order.get(e, 0))


def linearise(el: HtmlElement) -> list[tuple[str, float, bool]]:
    """Text lines of a subtree in order: (text, link share, is heading)."""
    lines: list[tuple[str, float, bool]] = []
    buf: list[str] = []
    state = {"link": 0, "heading": False}

    def flush() -> None:
        text = _norm("".join(buf))
        if text:
            lines.append((text, min(1.0, state["link"] / len(text)), bool(state["heading"])))
        buf.clear()
        state["link"] = 0
        state["heading"] = False

    def walk(node: HtmlElement, in_link: bool) -> None:
        tag = node.tag
        block = tag in BLOCK_TAGS
        if block:
            flush()
        if tag in HEADING_TAGS:
            state["heading"] = True
        link = in_link or tag == "a"
        if node.text:
            buf.append(node.text)
            if link and not BARE_URL.match(node.text.strip()):  # a pasted URL is the author's text
                state["link"] += len(node.text.strip())
        for child in node:
            if isinstance(child.tag, str):
                walk(child, link)
        if block:
            flush()
        if node.tail:
            buf.append(node.tail)
            if in_link:
                state["link"] += len(node.tail.strip())

    walk(el, False)
    flush()
    return lines


def filter_lines(lines: Iterable[tuple[str, float, bool]]) -> list[str]:
    """Drop link lists, boilerplate one-liners and repeated paragraphs; keep order."""
    out: list[str] = []
    seen: set[str] = set()
    for text, link_share, _heading in lines:
        if link_share > 0.5 and (len(text) < 200 or link_share > 0.8):
            continue
        if len(text) < 150 and BOILERPLATE_LINE.match(text):
            continue
        key = text.lower()
        if key in seen and len(text) >= DEDUPE_MIN:
            continue
        seen.add(key)
        out.append(text)
    return out


def extract_body(root: HtmlElement, reparse: Callable[[], HtmlElement | None]) -> list[str]:
    """Body paragraphs of a parsed page (the tree is modified).

    First pass strips boilerplate-named containers; when that leaves too little prose
    (some sites name the article wrapper "story-extra" or the like), a fresh parse is
    scored without that step, as Readability does.
    """
    clean_tree(root, strip_unlikely=True)
    paragraphs = [p for c in pick_containers(root) for p in filter_lines(linearise(c))]
    if sum(len(p) for p in paragraphs) >= 250:
        return paragraphs
    fresh = reparse()
    if fresh is None:
        return paragraphs
    clean_tree(fresh, strip_unlikely=False)
    retry = [p for c in pick_containers(fresh) for p in filter_lines(linearise(c))]
    return retry if sum(map(len, retry)) > sum(map(len, paragraphs)) else paragraphs
