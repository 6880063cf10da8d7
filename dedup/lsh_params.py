"""LSH band/row choice, delegated to datasketch's own optimiser so it is the known-good one."""

from __future__ import annotations

from functools import lru_cache

from datasketch.lsh import _optimal_param


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising weighted false positive + negative probability at `threshold`."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if fp_weight + fn_weight <= 0:
        raise ValueError("weights must not both be zero")
    bands, rows = _optimal_param(threshold, num_perm, fp_weight, fn_weight)
    return int(bands), int(rows)


DEFAULT_THRESHOLD = 0.55  # estimated Jaccard of duplicates (k=2 syllable shingles): see docs/dedup-quality.md
DEFAULT_FN_WEIGHT = 0.9  # candidates are verified at the threshold anyway, so misses cost more than extras


def index_bands(threshold: float, num_perm: int, fn_weight: float = DEFAULT_FN_WEIGHT) -> tuple[int, int]:
    """(bands, rows) both index backends use: datasketch's optimiser, misses weighted `fn_weight`."""
    return lsh_params(threshold, num_perm, round(1.0 - fn_weight, 6), fn_weight)
