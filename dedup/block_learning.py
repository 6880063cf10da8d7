"""Boilerplate layer 3: blocks learned as repeated across a site's pages.

A site's template text (bylines, "Theo <source>" lines, reader-mail notices, "click the
photo" hints) sits inside the article container, so DOM and heading rules miss it. What
gives it away is repetition: the same paragraph on many different pages of one site. This
module counts, per site and within a window, on how many DISTINCT pages (document ids) a
near-identical block occurs; at >= `min_pages` it is boilerplate and is dropped from that
page, later pages and earlier pages when they are cleaned again.

Matching: each block's normalised text (dedup.normalize: spacing, case, NFD/NFC and tone-mark
style folded) gets a small MinHash (syllable shingles, `num_perm` = bands x rows); every
band is a key. A block's count is the max over its bands of the distinct live pages recorded
under that key, so a one-word variant still lands in the bands it shares. Parameters were
chosen by measurement on baomoi (figures by the constants below; bench/bench_blocks.py).

Safety: blocks under `min_tokens` syllables never count; short blocks (< `short_tokens`) only
when they stand alone (previous block ends a sentence, next starts one), so pieces of a
sentence split by inline links ("Trung Quốc") are never learned. If learned blocks would take
more than `max_share` of a page's text, the page is a copy of pages where they are content
(a republished article): nothing learned is removed. Text is never emptied.

Teasers: a block ending in "..."/"…" whose normalised text (last, maybe cut, word dropped)
starts like another page's lead or first paragraph on the site is a teaser of that article.
Leads are stored as hashes of their first L tokens, L on a ladder (6, 8, 11, ...), so a
teaser is checked on the longest ladder prefix it covers (at least 70 % of its words).

Stores (same rules, same answers): in memory (tests, one-off runs) and Redis, one hash per
site ``<prefix>blocks:{<site>}`` (hash tag: one Cluster slot per site) whose fields are
buckets of 12-byte records ``residual u32 | page u32 | time u32`` in time order; expired
records form a prefix cut whenever a bucket is loaded, a sweep cursor prunes idle buckets,
and the key expires `window` + 1/16 after its last write. One Lua call records and counts a
whole batch of one site atomically (dedup/lua/blocks.lua). Nothing is pickled.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson
import redis
import xxhash

from dedup.minhash import MinHasher
from dedup.normalize import normalize

# Measured on baomoi (3,702 articles, 54,978 paragraphs over 4 simulated sites; 300 blocks of
# 8-60 syllables planted on 4 pages, each copy with one word changed and respaced/upper-cased):
#   1-syllable shingles, 4 bands x 6 rows: 84 % of variants caught, 0.25 % of paragraphs
#   removed without an exact repeat on 3 pages (mostly other outlets' versions of one story);
#   2-syllable shingles, 4 x 4: 76 % / 0.22 %; 4 x 3: 83 % / 0.48 %; 1-syllable 4 x 5: 89 % / 0.64 %.
# Every band costs 12 bytes per block in Redis, so 4 bands.
DEFAULT_BANDS = 4
DEFAULT_ROWS = 6
DEFAULT_K = 1
DEFAULT_WINDOW = 30 * 86400
LADDER = (6, 8, 11, 16, 23, 32, 45, 64)
_TRUNCATED = re.compile(r"(\.{3,}|…)[\s\"'”’»)\]]*$")
_SENTENCE_END = re.compile(r"[.!?:;…\"'”’»)\]]\s*$")
_OPENERS = " \t\"'“‘«([-–—•*"
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_OP = np.dtype([("bucket", ">u4"), ("residual", ">u4")])
_SCRIPT = (Path(__file__).parent / "lua" / "blocks.lua").read_text(encoding="utf-8")


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


class Page(NamedTuple):
    """One page to clean: its site, document id, body paragraphs and lead (sapo)."""

    site: str
    doc_id: str
    paragraphs: Sequence[str]
    lead: str = ""


@dataclass(frozen=True)
class _Plan:
    """What the store sees of a page: 64-bit keys only."""

    page: int  # u32 hash of the document id
    leads: np.ndarray  # uint64 lead-prefix keys
    blocks: np.ndarray  # uint64 (n_blocks, bands) band keys of the eligible blocks
    teasers: np.ndarray  # uint64 prefix keys of the teaser candidates


def standalone(paragraphs: Sequence[str], i: int, short_tokens: int = 8) -> bool:
    """The block is a line of its own, not a piece of a sentence split around a link: the
    previous block ends a sentence and the next starts one and is itself a full block."""
    if i > 0 and not _SENTENCE_END.search(paragraphs[i - 1]):
        return False
    nxt = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
    if not nxt.strip():
        return True
    head = nxt.lstrip(_OPENERS)[:1]
    full = bool(_SENTENCE_END.search(nxt)) or len(normalize(nxt).split()) >= short_tokens
    return head.isalnum() and not head.islower() and full


def _prefix_key(tokens: Sequence[str], length: int) -> int:
    return xxhash.xxh3_64_intdigest(" ".join(tokens[:length]).encode("utf-8"), seed=length)


class _MemoryStore:
    """Reference implementation of the store rules (the Lua script mirrors it)."""

    def __init__(self, window: int, refresh: int, min_pages: int, bucket_bits: int) -> None:
        self.window, self.refresh, self.k, self.bucket_bits = window, refresh, min_pages, bucket_bits
        self.sites: dict[str, dict[int, list[tuple[int, int]]]] = defaultdict(dict)
        self._calls = 0

    def _key(self, key: int) -> int:
        """Same resolution as the Redis layout: bucket bits + 32-bit residual."""
        return ((key >> (64 - self.bucket_bits)) << 32) | (key & 0xFFFFFFFF)

    def _live(self, index: dict[int, list[tuple[int, int]]], key: int, now: int) -> list[tuple[int, int]]:
        records = [r for r in index.get(key, ()) if r[1] > now - self.window]
        if records:
            index[key] = records
        else:
            index.pop(key, None)
        return records

    def record(self, site: str, plans: Sequence[_Plan], now: int) -> list[tuple[list[int], list[bool]]]:
        index = self.sites[site]
        self._calls += 1
        if self._calls % 512 == 0:
            for key in list(index):
                self._live(index, key, now)
        for plan in plans:
            for raw in plan.leads.tolist():
                key = self._key(raw)
                if all(p != plan.page for p, _ in self._live(index, key, now)):
                    index.setdefault(key, []).append((plan.page, now))
        out = []
        for plan in plans:
            counts = []
            for row in plan.blocks.tolist():
                best = 0
                for raw in row:
                    key = self._key(raw)
                    live = self._live(index, key, now)
                    pages = {p for p, _ in live}
                    count = len(pages)
                    if plan.page not in pages:
                        count += 1
                        if len(pages) < self.k or min(t for _, t in live) <= now - self.refresh:
                            index.setdefault(key, []).append((plan.page, now))
                    best = max(best, count)
                counts.append(best)
            teasers = [any(p != plan.page for p, _ in self._live(index, self._key(raw), now))
                       for raw in plan.teasers.tolist()]
            out.append((counts, teasers))
        return out


class _RedisStore:
    """The same rules in one Lua call per site and batch (see dedup/lua/blocks.lua)."""

    def __init__(self, client: redis.Redis, prefix: str, window: int, refresh: int, min_pages: int,
                 bucket_bits: int, bands: int, cfg: dict[str, Any], sweep: int = 32) -> None:
        self.client, self.prefix = client, prefix
        self.window, self.refresh, self.k, self.bucket_bits, self.bands = window, refresh, min_pages, bucket_bits, bands
        self.ttl_ms = (window + window // 16) * 1000
        self.cfg = orjson.dumps(cfg, option=orjson.OPT_SORT_KEYS)
        self.sweep = sweep
        self._script = client.register_script(_SCRIPT)

    def key(self, site: str) -> str:
        return f"{self.prefix}blocks:{{{site.replace('{', '(').replace('}', ')')}}}"

    def _pack(self, plan: _Plan) -> bytes:
        keys = np.concatenate([plan.leads, plan.blocks.reshape(-1), plan.teasers]).astype(np.uint64)
        ops = np.empty(len(keys), dtype=_OP)
        ops["bucket"] = keys >> np.uint64(64 - self.bucket_bits)
        ops["residual"] = keys & np.uint64(0xFFFFFFFF)
        head = b"".join(int(v).to_bytes(n, "big") for v, n in (
            (plan.page, 4), (len(plan.leads), 2), (len(plan.blocks), 2), (len(plan.teasers), 2)))
        return head + ops.tobytes()

    def record(self, site: str, plans: Sequence[_Plan], now: int) -> list[tuple[list[int], list[bool]]]:
        args: list[Any] = [now, self.window, self.refresh, self.ttl_ms, 1 << self.bucket_bits, self.cfg,
                           self.sweep, self.bands, self.k, *(self._pack(p) for p in plans)]
        raw = [int(v) for v in self._script(keys=[self.key(site)], args=args)]
        out, pos = [], 0
        for plan in plans:
            nb, nt = len(plan.blocks), len(plan.teasers)
            out.append((raw[pos : pos + nb], [bool(v) for v in raw[pos + nb : pos + nb + nt]]))
            pos += nb + nt
        return out


class BlockLearner:
    """Learns a site's repeated blocks and teasers; `filter`/`filter_batch` clean pages."""

    def __init__(
        self,
        client: redis.Redis | None = None,
        prefix: str = "newsdedup:",
        min_pages: int = 3,
        window_seconds: float = DEFAULT_WINDOW,
        *,
        bands: int = DEFAULT_BANDS,
        rows: int = DEFAULT_ROWS,
        k: int = DEFAULT_K,
        min_tokens: int = 2,
        short_tokens: int = 8,
        teaser_tokens: int = LADDER[0],
        max_share: float = 0.5,
        bucket_bits: int = 16,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if min_pages < 2:
            raise ValueError("min_pages must be at least 2")
        if not 0.0 < max_share <= 1.0:
            raise ValueError("max_share must be in (0, 1]")
        if int(window_seconds) < 16 or not 8 <= bucket_bits <= 32:
            raise ValueError("window_seconds must be >= 16 and bucket_bits in 8..32")
        self.min_pages, self.window = min_pages, int(window_seconds)
        self.bands, self.rows = bands, rows
        self.min_tokens, self.short_tokens, self.max_share = min_tokens, short_tokens, max_share
        self.teaser_tokens = max(teaser_tokens, LADDER[0])
        self.clock = clock
        self.hasher = MinHasher(num_perm=bands * rows, k=k)
        self._salts = _mix(np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        refresh = self.window // 2
        cfg = {"format": 1, "bands": bands, "rows": rows, "k": k, "bucket_bits": bucket_bits}
        self.store: _MemoryStore | _RedisStore = (
            _MemoryStore(self.window, refresh, min_pages, bucket_bits) if client is None
            else _RedisStore(client, prefix, self.window, refresh, min_pages, bucket_bits, bands, cfg))

    # --- planning (pure Python/numpy, no I/O)
    def _eligible(self, paragraphs: Sequence[str], i: int, n_tokens: int) -> bool:
        if n_tokens < self.min_tokens:
            return False
        return n_tokens >= self.short_tokens or standalone(paragraphs, i, self.short_tokens)

    def _band_keys(self, norms: list[str]) -> np.ndarray:
        if not norms:
            return np.empty((0, self.bands), np.uint64)
        sigs = np.stack([self.hasher.signature(n) for n in norms]).reshape(len(norms), self.bands, self.rows)
        h = np.broadcast_to(self._salts, (len(norms), self.bands)).copy()
        for j in range(self.rows):
            h = _mix(h ^ sigs[:, :, j])
        return h

    def _plan(self, page: Page) -> tuple[_Plan, list[int], list[int]]:
        """The page's keys, and which paragraphs are eligible blocks / teaser candidates."""
        paras = list(page.paragraphs)
        leads: list[int] = []
        for source in (page.lead, paras[0] if paras else ""):
            toks = normalize(source).split()
            leads += [_prefix_key(toks, n) for n in LADDER if n <= len(toks)]
        norms, blocks, teasers, teaser_keys = [], [], [], []
        for i, para in enumerate(paras):
            norm = normalize(para)
            toks = norm.split()
            if _TRUNCATED.search(para) and len(toks) - 1 >= self.teaser_tokens:
                length = max(n for n in LADDER if n <= len(toks) - 1)
                teasers.append(i)
                teaser_keys.append(_prefix_key(toks, length))
            if self._eligible(paras, i, len(toks)):
                blocks.append(i)
                norms.append(norm)
        plan = _Plan(
            page=xxhash.xxh32_intdigest(page.doc_id.encode("utf-8")),
            leads=np.array(sorted(set(leads)), np.uint64), blocks=self._band_keys(norms),
            teasers=np.array(teaser_keys, np.uint64),
        )
        return plan, blocks, teasers

    # --- decisions
    def _decide(self, paras: list[str], blocks: list[int], counts: list[int], teasers: list[int],
                flags: list[bool]) -> tuple[list[str], int]:
        learned = {i for i, c in zip(blocks, counts, strict=True) if c >= self.min_pages}
        teaser = {i for i, f in zip(teasers, flags, strict=True) if f}
        total = sum(len(p) for p in paras)
        if sum(len(paras[i]) for i in learned - teaser) > self.max_share * total:
            learned = set()  # a copy of pages where these blocks are content, not boilerplate
        drop = learned | teaser
        kept = [p for i, p in enumerate(paras) if i not in drop]
        if not any(p.strip() for p in kept):
            return paras, 0
        return kept, len(drop)

    def filter_batch(self, pages: Sequence[Page]) -> list[tuple[list[str], int]]:
        """Record each page's blocks, then return (kept paragraphs, blocks removed) per page.
        Pages are counted in input order; leads of the whole batch are known to every page."""
        now = int(self.clock())
        planned = [self._plan(p) for p in pages]
        by_site: dict[str, list[int]] = defaultdict(list)
        for i, page in enumerate(pages):
            by_site[page.site].append(i)
        results: list[tuple[list[str], int]] = [([], 0)] * len(pages)
        for site, idx in by_site.items():
            answers = self.store.record(site, [planned[i][0] for i in idx], now)
            for i, (counts, flags) in zip(idx, answers, strict=True):
                _, blocks, teasers = planned[i]
                results[i] = self._decide(list(pages[i].paragraphs), blocks, counts, teasers, flags)
        return results

    def filter(self, site: str, doc_id: str, paragraphs: Sequence[str], lead: str = "") -> tuple[list[str], int]:
        """One page: (paragraphs without learned boilerplate and teasers, blocks removed)."""
        return self.filter_batch([Page(site, doc_id, paragraphs, lead)])[0]

    def clean_documents(self, docs: Sequence[dict[str, Any]]) -> int:
        """Rewrite `text` of document dicts in place, adding to `removed_blocks`; returns the total removed."""
        pages = [Page(d.get("site", ""), d["id"], d.get("text", "").split("\n\n"), d.get("sapo", "") or "")
                 for d in docs]
        total = 0
        for doc, (kept, removed) in zip(docs, self.filter_batch(pages), strict=True):
            if removed:
                doc["text"] = "\n\n".join(kept)
                doc["removed_blocks"] = doc.get("removed_blocks", 0) + removed
                total += removed
        return total
