"""The compiled signature equals datasketch's legacy MinHash over the same shingles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

from dedup.minhash import DEFAULT_K, MinHasher, shingle_hash, shingles
from dedup.normalize import normalize

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"


def seed_texts() -> list[str]:
    return [normalize(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]


def datasketch_signature(text: str, num_perm: int, seed: int, k: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash, scheme="legacy")
    m.update_batch(shingles(text, k))
    return np.asarray(m.hashvalues)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_signature_equals_datasketch_legacy(k: int) -> None:
    hasher = MinHasher(num_perm=128, seed=1, k=k)
    for text in seed_texts():
        sig = hasher.signature(text)
        assert sig.dtype == np.uint64 and sig.shape == (128,)
        assert np.array_equal(sig, datasketch_signature(text, 128, 1, k))


def test_other_seed_and_num_perm() -> None:
    text = seed_texts()[1]
    for num_perm, seed in ((64, 42), (256, 7)):
        sig = MinHasher(num_perm=num_perm, seed=seed).signature(text)
        assert np.array_equal(sig, datasketch_signature(text, num_perm, seed, DEFAULT_K))
    assert not np.array_equal(MinHasher(seed=1).signature(text), MinHasher(seed=2).signature(text))


def test_short_text_is_one_shingle() -> None:
    assert shingles("một hai", 3) == ["một hai".encode()]
    hasher = MinHasher(k=3)
    for text in ("một", "một hai"):
        assert np.array_equal(hasher.signature(text), datasketch_signature(text, 128, 1, 3))
    assert not np.array_equal(hasher.signature("một"), hasher.signature("hai"))


def test_empty_text_is_datasketchs_empty_minhash() -> None:
    sig = MinHasher().signature("")
    empty = MinHash(num_perm=128, seed=1, scheme="legacy")
    assert np.array_equal(sig, empty.hashvalues)
    assert MinHasher().lean("").is_empty()
    assert shingles("") == []


def test_shingles_are_k_tokens_joined_by_space() -> None:
    text = normalize("Một hai ba bốn năm")
    assert shingles(text, 3) == [s.encode() for s in ("một hai ba", "hai ba bốn", "ba bốn năm")]
    assert shingles("  a  b ", 1) == [b"a", b"b"]


def test_shingle_hash_is_32_bit_and_order_sensitive() -> None:
    values = {shingle_hash(s) for s in (b"a b c", b"c b a", b"a b", b"ab c", b"hoa", b"ho\xc3\xa0")}
    assert len(values) == 6
    assert all(0 <= v < 2**32 for v in values)
    assert shingle_hash(b"a  b") == shingle_hash(b"a b")


def test_lean_minhash_interoperates() -> None:
    text = seed_texts()[0]
    hasher = MinHasher()
    lean = hasher.lean(text)
    assert isinstance(lean, LeanMinHash) and lean.scheme == "legacy" and lean.seed == 1
    assert np.array_equal(lean.hashvalues, hasher.signature(text))
    m = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash, scheme="legacy")
    m.update_batch(shingles(text))
    assert lean.jaccard(LeanMinHash(m)) == 1.0


def test_similar_texts_estimate_close_to_exact_jaccard() -> None:
    a = seed_texts()[0]
    words = a.split()
    b = " ".join(words[: int(len(words) * 0.7)])
    exact = len(set(shingles(a)) & set(shingles(b))) / len(set(shingles(a)) | set(shingles(b)))
    hasher = MinHasher()
    est = hasher.lean(a).jaccard(hasher.lean(b))
    assert abs(est - exact) < 0.15


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        MinHasher(num_perm=0)
    with pytest.raises(ValueError):
        MinHasher(k=0)
