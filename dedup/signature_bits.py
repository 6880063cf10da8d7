"""b-bit MinHash: keep the low b bits of each hash value for compact verification.

Both index backends store and compare these, so their similarity estimates agree exactly.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BITS = 8


def compress(signature: np.ndarray, bits: int = DEFAULT_BITS) -> bytes:
    """Low `bits` bits (8 or 4) of each hash value, packed."""
    low = (np.asarray(signature, dtype=np.uint64) & np.uint64((1 << bits) - 1)).astype(np.uint8)
    if bits == 8:
        return low.tobytes()
    if bits == 4:
        if len(low) % 2:
            low = np.append(low, np.uint8(0))
        return (low[0::2] | (low[1::2] << np.uint8(4))).astype(np.uint8).tobytes()
    raise ValueError(f"bits must be 4 or 8, got {bits}")


def estimate_jaccard(a: bytes, b: bytes, bits: int = DEFAULT_BITS) -> float:
    """Jaccard estimate from two b-bit signatures (Li & König: corrects chance collisions)."""
    if len(a) != len(b) or not a:
        raise ValueError("b-bit signatures of different lengths")
    x = np.frombuffer(a, dtype=np.uint8)
    y = np.frombuffer(b, dtype=np.uint8)
    if bits == 8:
        equal = int(np.count_nonzero(x == y))
        n = len(x)
    else:
        equal = int(np.count_nonzero((x & 15) == (y & 15)) + np.count_nonzero((x >> 4) == (y >> 4)))
        n = 2 * len(x)
    chance = 1.0 / (1 << bits)
    return max(0.0, (equal / n - chance) / (1.0 - chance))
