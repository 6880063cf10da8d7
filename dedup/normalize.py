"""Vietnamese text normalisation for *matching* (the stored text stays as extracted, NFC).

Two spellings of one article must give the same tokens, so `normalize` folds:

- Unicode form: NFD input (macOS, some CMSs) and NFC input give the same string.
- Case: simple (one-to-one) lower-casing of every BMP letter.
- Tone-mark placement: the old style puts the tone on the *last* vowel of the open
  nuclei oa/oe/uy ("hoà, khoẻ, thuý"), the new style on the first ("hòa, khỏe, thúy").
  We rewrite the new style to the old one; both styles agree everywhere else.
- i/y at the end of a syllable after a consonant or "qu" ("quí/quý, kì/kỳ, lí/lý,
  mĩ/mỹ, công ti/công ty") becomes i. After any other vowel i and y are different
  words (tai/tay) and are left alone.
- Anything that is not a letter or digit (punctuation, symbols, whitespace, underscore,
  characters outside the BMP such as emoji): any run becomes one space. Digits stay.

Speed: it runs on every article, so after one C-speed NFC pass the whole fold is a single
numba loop over the code points (table look-ups; ~15 µs for a 6 KB article, where the
equivalent `re.sub` passes cost ~600 µs). tests/dedup/test_normalize.py checks it against
a plain `re`/`str` reference implementation.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import xxhash
from numba import njit


def _build_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """fold: BMP code point -> lower-case code point, or 0 for a separator.
    kind: 1 consonant, 2 'q', 3 'u', 4 y-with-any-tone, 5 'o'-with-tone, 6 'u'-with-tone.
    aux: y-with-tone -> i-with-tone; toned o/u -> tone index (1..5)."""
    fold = np.zeros(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        ch = chr(cp)
        if ch.isalnum():
            low = ch.lower()
            fold[cp] = ord(low) if len(low) == 1 else cp
    kind = np.zeros(0x10000, dtype=np.uint8)
    aux = np.zeros(0x10000, dtype=np.uint32)
    for ch in "bcdđghklmnprstvx":
        kind[ord(ch)] = 1
    kind[ord("q")] = 2
    kind[ord("u")] = 3
    for y, i in zip("yýỳỷỹỵ", "iíìỉĩị", strict=True):
        kind[ord(y)] = 4
        aux[ord(y)] = ord(i)
    for tone, (o, u) in enumerate(zip("òóỏõọ", "ùúủũụ", strict=True), start=1):
        kind[ord(o)], aux[ord(o)] = 5, tone
        kind[ord(u)], aux[ord(u)] = 6, tone
    return fold, kind, aux


_FOLD, _KIND, _AUX = _build_tables()
# Second vowel of oa / oe / uy carrying tone 1..5 (index 0 unused).
_TONED_A = np.array([0, *map(ord, "àáảãạ")], dtype=np.uint32)
_TONED_E = np.array([0, *map(ord, "èéẻẽẹ")], dtype=np.uint32)
_TONED_Y = np.array([0, *map(ord, "ỳýỷỹỵ")], dtype=np.uint32)


@njit(cache=True, nogil=True)
def _fold_codepoints(src, fold, kind, aux, toned_a, toned_e, toned_y):  # pragma: no cover - compiled
    """One pass: lower-case, separators -> single spaces, oa/oe/uy placement, final y -> i."""
    n = src.shape[0]
    cp = np.empty(n, np.uint32)
    for i in range(n):
        c = src[i]
        cp[i] = fold[c] if c < 0x10000 else 0
    out = np.empty(n, np.uint32)
    j = 0
    for i in range(n):
        c = cp[i]
        if c == 0:
            if j > 0 and out[j - 1] != 32:
                out[j] = 32
                j += 1
            continue
        k = kind[c]
        if (k == 5 or k == 6) and i + 1 < n:
            nxt = cp[i + 1]
            tone = aux[c]
            if k == 5 and nxt == 97:  # ò + a -> o + à
                c, cp[i + 1] = 111, toned_a[tone]
            elif k == 5 and nxt == 101:  # ò + e -> o + è
                c, cp[i + 1] = 111, toned_e[tone]
            elif k == 6 and nxt == 121:  # ù + y -> u + ỳ
                c, cp[i + 1] = 117, toned_y[tone]
        elif k == 4 and j > 0:
            final = i + 1 >= n or cp[i + 1] == 0 or (48 <= cp[i + 1] <= 57)
            if final:
                prev = kind[out[j - 1]]
                if prev == 1 or (prev == 3 and j > 1 and kind[out[j - 2]] == 2):
                    c = aux[c]
        out[j] = c
        j += 1
    if j > 0 and out[j - 1] == 32:
        j -= 1
    return out[:j]


def normalize(text: str) -> str:
    """Matching form of `text`: folded spelling, lower case, tokens joined by single spaces."""
    if len(text) <= _CACHED_LEN:
        return _normalize_short(text)
    return _normalize(text)


def _normalize(text: str) -> str:
    src = np.frombuffer(unicodedata.normalize("NFC", text).encode("utf-32-le", "surrogatepass"), np.uint32)
    folded = _fold_codepoints(src, _FOLD, _KIND, _AUX, _TONED_A, _TONED_E, _TONED_Y)
    return folded.tobytes().decode("utf-32-le", "surrogatepass")


# Paragraphs and lines are normalised by several layers (text rules, learned blocks, the
# dedup stage) in a row: remembering the short ones saves most of that repeated work.
_CACHED_LEN = 2000
_normalize_short = lru_cache(maxsize=8192)(_normalize)


def tokens(text: str) -> list[str]:
    """Tokens (syllables, numbers, foreign words) of `text` after normalisation."""
    normalised = normalize(text)
    return normalised.split(" ") if normalised else []


def content_hash(normalised_text: str) -> str:
    """Exact-duplicate key: xxh3-128 of the normalised text's UTF-8 bytes, hex (32 chars)."""
    return xxhash.xxh3_128_hexdigest(normalised_text.encode("utf-8"))


def to_nfc(text: str) -> str:
    """The stored form of extracted text: NFC, nothing else changed."""
    return unicodedata.normalize("NFC", text)
