"""Fast MinHash over syllable shingles, bit-identical to datasketch's legacy scheme.

datasketch's `update_batch` spends its time in Python per shingle (building the string,
encoding, one sha1 each): ≈ 700 docs/s on a 5.5 KB article. Here one numba loop walks the
UTF-8 bytes of the normalised text: FNV-1a 64 per token, a multiply-xor combination of k
token hashes per shingle (finalised with murmur3's fmix64, top 32 bits), then datasketch's
legacy permutation `((hv * a + b) % (2**61 - 1)) & (2**32 - 1)` in wrapping uint64
arithmetic, as numpy computes it, and a running minimum. `shingle_hash` is the same hash in
pure Python, so `datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash,
scheme="legacy")` fed `shingles(text)` gives exactly our signature (tests check it).

Shingle size k = 2 syllables (default), chosen by measurement (bench/dedup_quality.py,
docs/dedup-quality.md; 300 baomoi articles per case, MemoryIndex at its default 0.5, whose
bands 25x5 come from datasketch's optimiser). Each edited word destroys k shingles, so
~10 % scattered word edits leave exact Jaccard 0.68 at k=2, 0.58 at k=3, 0.49 at k=4: the
recall on such copies is 0.99 at k=2 but 0.80 at k=3 and 0.23 at k=4. Shorter shingles
make different articles look alike: the two seeds (same story, different articles) have
Jaccard 0.44 at k=1, 0.11 at k=2, 0.04 at k=3. Most Vietnamese words are two syllables,
so a 2-syllable shingle is roughly one word or a word pair. Shared verbatim passages
(outlets quoting one press release) are k-insensitive, so a smaller k also favours real
copies over partial rewrites.

Empty text (no tokens) has no shingles: its signature is all 2**32 - 1, exactly datasketch's
empty MinHash (`is_empty()` is true). Such a signature matches every other empty one, so
callers must not index it (dedup.batch reports such documents unique and skips the index).
A text with fewer than k tokens is one shingle: all its tokens.
"""

from __future__ import annotations

import numpy as np
from datasketch import LeanMinHash, MinHash
from numba import njit

DEFAULT_K = 2
DEFAULT_NUM_PERM = 128
DEFAULT_SEED = 1

_MASK64 = (1 << 64) - 1
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_COMBINE_SEED = 0x9E3779B97F4A7C15
_COMBINE_MUL = 0xBF58476D1CE4E5B9
_MERSENNE = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1


@njit(cache=True, nogil=True)
def _signature_kernel(buf, k, a, b):  # pragma: no cover - compiled
    """Token hashes -> shingle hashes -> legacy permutation -> min, in one pass per stage."""
    n = buf.shape[0]
    fnv_prime = np.uint64(_FNV_PRIME)
    toks = np.empty(n // 2 + 1, np.uint64)
    m = 0
    h = np.uint64(_FNV_OFFSET)
    in_token = False
    for i in range(n):
        c = buf[i]
        if c == 32:
            if in_token:
                toks[m] = h
                m += 1
                in_token = False
                h = np.uint64(_FNV_OFFSET)
        else:
            h = (h ^ np.uint64(c)) * fnv_prime
            in_token = True
    if in_token:
        toks[m] = h
        m += 1

    num_perm = a.shape[0]
    out = np.full(num_perm, np.uint64(_MAX_HASH), np.uint64)
    if m == 0:
        return out
    width = k if m >= k else m
    n_sh = m - width + 1
    mul = np.uint64(_COMBINE_MUL)
    shs = np.empty(n_sh, np.uint64)
    for s in range(n_sh):
        x = np.uint64(_COMBINE_SEED)
        for t in range(width):
            x = (x ^ toks[s + t]) * mul
        # murmur3 fmix64, keep the top 32 bits
        x ^= x >> np.uint64(33)
        x *= np.uint64(0xFF51AFD7ED558CCD)
        x ^= x >> np.uint64(33)
        x *= np.uint64(0xC4CEB9FE1A85EC53)
        x ^= x >> np.uint64(33)
        shs[s] = x >> np.uint64(32)

    prime = np.uint64(_MERSENNE)
    low = np.uint64(_MAX_HASH)
    sixty_one = np.uint64(61)
    for p in range(num_perm):
        ap = a[p]
        bp = b[p]
        best = np.uint64(_MAX_HASH)
        for s in range(n_sh):
            v = shs[s] * ap + bp  # wraps modulo 2**64, as numpy does
            v = (v & prime) + (v >> sixty_one)  # == v % (2**61 - 1) after one correction
            if v >= prime:
                v -= prime
            v &= low
            if v < best:
                best = v
        out[p] = best
    return out


def _fnv1a64(token: bytes) -> int:
    h = _FNV_OFFSET
    for c in token:
        h = ((h ^ c) * _FNV_PRIME) & _MASK64
    return h


def shingle_hash(shingle: bytes) -> int:
    """32-bit hash of one shingle (tokens joined by single spaces, UTF-8), as the kernel does."""
    x = _COMBINE_SEED
    for token in shingle.split(b" "):
        if token:
            x = ((x ^ _fnv1a64(token)) * _COMBINE_MUL) & _MASK64
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & _MASK64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & _MASK64
    x ^= x >> 33
    return x >> 32


def shingles(normalised_text: str, k: int = DEFAULT_K) -> list[bytes]:
    """The k-token shingles the signature is built from (all tokens as one if fewer than k)."""
    toks = [t for t in normalised_text.encode("utf-8").split(b" ") if t]
    if not toks:
        return []
    if len(toks) < k:
        return [b" ".join(toks)]
    return [b" ".join(toks[i : i + k]) for i in range(len(toks) - k + 1)]


class MinHasher:
    """Signatures of normalised texts (see dedup.normalize), datasketch legacy layout."""

    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, seed: int = DEFAULT_SEED, k: int = DEFAULT_K) -> None:
        if num_perm < 1 or k < 1:
            raise ValueError("num_perm and k must be positive")
        self.num_perm = num_perm
        self.seed = seed
        self.k = k
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="legacy").permutations
        self._a = np.ascontiguousarray(a, dtype=np.uint64)
        self._b = np.ascontiguousarray(b, dtype=np.uint64)

    def signature(self, normalised_text: str) -> np.ndarray:
        """uint64 array of num_perm minimum hash values (values < 2**32)."""
        buf = np.frombuffer(normalised_text.encode("utf-8"), dtype=np.uint8)
        return _signature_kernel(buf, self.k, self._a, self._b)

    def lean(self, normalised_text: str) -> LeanMinHash:
        """The signature as a datasketch LeanMinHash (legacy scheme), for datasketch's LSH etc."""
        return LeanMinHash(seed=self.seed, hashvalues=self.signature(normalised_text), scheme="legacy")

    def warm_up(self) -> None:
        """Compile (or load from numba's cache) before timing anything."""
        self.signature("warm up text for the compiler")
