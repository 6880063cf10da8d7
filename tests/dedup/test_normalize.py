"""Normalisation for matching: Unicode form, tone placement, i/y, case, punctuation, digits."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest

from dedup.normalize import content_hash, normalize, to_nfc, tokens

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"


# --- a plain re/str reference implementation of the documented rules -----------------
_PLACEMENT = {
    f + s: base + t
    for f_set, base, s_set, s in (("òóỏõọ", "o", "àáảãạ", "a"), ("òóỏõọ", "o", "èéẻẽẹ", "e"), ("ùúủũụ", "u", "ỳýỷỹỵ", "y"))
    for f, t in zip(f_set, s_set, strict=True)
}
_PLACEMENT_RE = re.compile("|".join(_PLACEMENT))
_FINAL_Y_RE = re.compile(r"(?:(?<=[bcdđghklmnprstvx])|(?<=qu))[yýỳỷỹỵ](?![^\W\d_])")
_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")


def reference(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    text = _PLACEMENT_RE.sub(lambda m: _PLACEMENT[m.group()], text)
    text = _FINAL_Y_RE.sub(lambda m: m.group().translate(_Y_TO_I), text)
    text = "".join(c if ord(c) < 0x10000 else " " for c in text)
    return re.sub(r"[\W_]+", " ", text).strip()


OLD = "Hoà bình, thuý, hoá đơn, quí, kì, lí do, nước Mĩ, khoẻ, Uỷ ban, công ti, sĩ"
NEW = "Hòa bình, thúy, hóa đơn, quý, kỳ, lý do, nước Mỹ, khỏe, Ủy ban, công ty, sỹ"


def test_old_and_new_tone_style_give_same_tokens() -> None:
    assert normalize(OLD) == normalize(NEW)
    assert tokens(NEW)[:4] == ["hoà", "bình", "thuý", "hoá"]


@pytest.mark.parametrize(
    ("old", "new"),
    [("hoà", "hòa"), ("thuý", "thúy"), ("hoá", "hóa"), ("quí", "quý"), ("kì", "kỳ"), ("lí", "lý"), ("mĩ", "mỹ"),
     ("xoè", "xòe"), ("luỹ", "lũy"), ("QUÍ", "QUÝ"), ("Khoẻ", "KHỎE")],
)
def test_each_spelling_pair(old: str, new: str) -> None:
    assert normalize(old) == normalize(new)


@pytest.mark.parametrize(("a", "b"), [("tai", "tay"), ("hoàng", "hoang"), ("tuy", "tui"), ("mai", "may"), ("hoà", "hoa")])
def test_different_words_stay_different(a: str, b: str) -> None:
    assert normalize(a) != normalize(b)


def test_closed_syllables_untouched() -> None:
    assert normalize("Hoàng Quỳnh khuya tuyết") == "hoàng quỳnh khuya tuyết"


def test_nfd_equals_nfc() -> None:
    text = (SEEDS / "000_c2a6c58238d759cb.txt").read_text(encoding="utf-8")
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert normalize(nfd) == normalize(text)
    assert content_hash(normalize(nfd)) == content_hash(normalize(text))


def test_punctuation_whitespace_and_digits() -> None:
    assert normalize("  «Giá vàng» tăng 10.000 đồng/lượng!!\n\t(ngày 6/11)…  ") == "giá vàng tăng 10 000 đồng lượng ngày 6 11"
    assert normalize("snake_case — em-dash “quotes” 😀emoji") == "snake case em dash quotes emoji"
    assert normalize("") == "" and normalize(" ,.;! ") == ""
    assert tokens("...") == []


def test_case_folding() -> None:
    assert normalize("ĐÀ NẴNG Đà Nẵng đà nẵng") == "đà nẵng đà nẵng đà nẵng"


def test_matches_reference_on_seeds_and_random_text() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert normalize(text) == reference(text)
        assert normalize(unicodedata.normalize("NFD", text)) == reference(text)
    rng = random.Random(3)
    alphabet = list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĐQUY0123456789 .,;:!?-_/'\"()\n\t") + list(
        "àáảãạòóỏõọùúủũụỳýỷỹỵèéẻẽẹìíỉĩịÀÓỦỸ…“”😀"
    )
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert normalize(text) == reference(text), text


def test_content_hash_is_xxh128_hex() -> None:
    h = content_hash(normalize(NEW))
    assert re.fullmatch(r"[0-9a-f]{32}", h)
    assert h == content_hash(normalize(OLD))
    assert h != content_hash(normalize(NEW + " thêm"))


def test_to_nfc_keeps_text() -> None:
    assert to_nfc(unicodedata.normalize("NFD", NEW)) == NEW
