"""The dedup acceptance cases, through dedup.batch with the default k and threshold."""

from __future__ import annotations

import gzip
import json
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from dedup.batch import dedup_records, matching_text
from dedup.memory_index import MemoryIndex
from dedup.minhash import MinHasher

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"
SEED0 = (SEEDS / "000_c2a6c58238d759cb.txt").read_text(encoding="utf-8")
SEED1 = (SEEDS / "001_34fc34c2a117d8ed.txt").read_text(encoding="utf-8")
BODY0 = SEED0.split("TIN CÙNG CHỦ ĐỀ")[0]

HEADER = "Trang chủ | Thế giới | Quân sự | Hồ sơ\nThứ Năm, 07/11/2024 08:15 (GMT+7)\n"
FOOTER = (
    "\n© Copyright 2024 Báo điện tử Tin Nhanh. Giấy phép số 123/GP-BTTTT do Bộ Thông tin và Truyền thông cấp."
    "\nTổng biên tập: Nguyễn Văn An. Địa chỉ: 15 Phố Huế, Hai Bà Trưng, Hà Nội. Điện thoại: 024 3999 9999."
    "\nGhi rõ nguồn 'Tin Nhanh' khi phát hành lại thông tin từ website này."
)
STANDARD = (
    "Bạn đọc có thông tin, hình ảnh, video clip về các vụ việc nóng, tiêu cực hoặc có ý kiến đóng góp cho bài "
    "viết xin vui lòng gửi về hòm thư của ban biên tập hoặc liên hệ đường dây nóng của tòa soạn. Thông tin của "
    "bạn đọc sẽ được bảo mật tuyệt đối và được ban biên tập xác minh, xử lý trong thời gian sớm nhất."
)
ARTICLE_A = (
    "Sáng 12/3, Ủy ban nhân dân thành phố Đà Nẵng tổ chức hội nghị tổng kết công tác phòng chống thiên tai năm "
    "qua, với sự tham gia của đại diện các sở, ngành và chính quyền các quận, huyện trên địa bàn.\n"
    "Theo báo cáo, trong năm thành phố chịu ảnh hưởng của năm cơn bão và hai đợt áp thấp nhiệt đới, gây thiệt "
    "hại ước tính hơn 300 tỷ đồng, chủ yếu là hạ tầng giao thông, đê kè và diện tích cây trồng ven sông.\n"
    "Phát biểu kết luận, lãnh đạo thành phố yêu cầu các đơn vị rà soát phương án sơ tán dân, chuẩn bị đủ vật "
    "tư, phương tiện và lực lượng tại chỗ trước mùa mưa bão, không để bị động trong mọi tình huống."
)
ARTICLE_B = (
    "Chiều 14/3, Sở Giáo dục và Đào tạo Hà Nội công bố phương án tuyển sinh vào lớp 10 công lập, theo đó thí "
    "sinh làm ba bài thi gồm Ngữ văn, Toán và Ngoại ngữ, thời gian thi dự kiến vào đầu tháng 6.\n"
    "Năm nay toàn thành phố có khoảng 130.000 học sinh tốt nghiệp trung học cơ sở, tăng hơn 10.000 em so với "
    "năm trước, trong khi chỉ tiêu các trường công lập chỉ đáp ứng khoảng sáu mươi phần trăm nhu cầu.\n"
    "Đại diện sở cho biết sẽ mở thêm lớp tại các trường mới xây ở quận ven đô và tăng cường kiểm tra việc dạy "
    "thêm, học thêm để giảm áp lực cho phụ huynh và học sinh trong mùa thi."
)

_NEW_TO_OLD = {
    f + s: base + t
    for f_set, base, s_set, s in (("òóỏõọ", "o", "àáảãạ", "a"), ("òóỏõọ", "o", "èéẻẽẹ", "e"), ("ùúủũụ", "u", "ỳýỷỹỵ", "y"))
    for f, t in zip(f_set, s_set, strict=True)
}


def old_style(text: str) -> str:
    """hòa -> hoà, thỏa -> thoả, thúy -> thuý, Mỹ -> Mĩ, quý -> quí, kỳ -> kì, lý -> lí, ty -> ti."""
    text = re.sub("(" + "|".join(_NEW_TO_OLD) + r")(?!\w)", lambda m: _NEW_TO_OLD[m.group(1)], text)
    iy = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")
    return re.sub(r"(?:(?<=[bcdđghklmnprstvxBCDĐGHKLMNPRSTVX])|(?<=qu))([yýỳỷỹỵ])(?!\w)",
                  lambda m: m.group(1).translate(iy), text)


def edit_words(text: str, rate: float, seed: int, vocab: list[str]) -> str:
    rng = random.Random(seed)
    lines = [line.split(" ") for line in text.split("\n")]
    slots = [(i, j) for i, words in enumerate(lines) for j, w in enumerate(words) if w]
    for i, j in rng.sample(slots, int(len(slots) * rate)):
        lines[i][j] = rng.choice(vocab)
    return "\n".join(" ".join(words) for words in lines)


def run(*texts: str, threshold: float | None = None) -> list[dict[str, Any]]:
    index = MemoryIndex() if threshold is None else MemoryIndex(threshold=threshold)
    records = [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)]
    return list(dedup_records(records, index, MinHasher()))


def assert_duplicate(original: str, copy: str) -> None:
    out = run(original, copy)
    assert out[0]["status"] == "unique"
    assert out[1]["status"] == "duplicate", out[1]
    assert out[1]["duplicate_of"] == "d0" and out[1]["cluster"] == "d0"


def assert_distinct(a: str, b: str) -> None:
    out = run(a, b)
    assert [o["status"] for o in out] == ["unique", "unique"], out
    assert out[1]["cluster"] == "d1" and out[1]["duplicate_of"] is None


def test_same_story_different_articles_are_distinct() -> None:
    assert_distinct(BODY0, SEED1)
    assert_distinct(SEED0, SEED1)


def test_nfd_vs_nfc() -> None:
    nfd = unicodedata.normalize("NFD", SEED0)
    assert nfd != SEED0
    assert_duplicate(SEED0, nfd)
    assert run(SEED0, nfd)[1]["similarity"] == 1.0  # exact after normalisation


def test_old_vs_new_tone_style() -> None:
    old = old_style(SEED0)
    assert old != SEED0 and "thoả thuận" in old and "Mĩ" in old
    assert_duplicate(SEED0, old)
    assert run(SEED0, old)[1]["similarity"] == 1.0


def test_another_sites_header_and_footer() -> None:
    assert_duplicate(BODY0, HEADER + BODY0 + FOOTER)
    assert_duplicate(SEED1, HEADER + "Nga - Triều Tiên: hiệp ước phòng thủ chung có hiệu lực\n" + SEED1 + FOOTER)


def test_related_block_does_not_hide_a_copy() -> None:
    assert_duplicate(BODY0, SEED0)  # the same article with its TIN CÙNG CHỦ ĐỀ block
    assert run(BODY0, SEED0)[1]["similarity"] == 1.0


@pytest.mark.parametrize("text", [SEED0, SEED1])
def test_truncated_to_first_70_percent(text: str) -> None:
    body = BODY0 if text is SEED0 else text
    cut = int(len(body) * 0.7)
    while not body[cut].isspace():
        cut += 1
    assert_duplicate(body, body[:cut])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ten_percent_of_words_edited(seed: int) -> None:
    vocab = [w for w in ARTICLE_B.split() if w.isalpha()]
    for text in (BODY0, SEED1):
        edited = edit_words(text, 0.10, seed, vocab)
        assert edited != text
        assert_duplicate(text, edited)


def test_articles_sharing_one_standard_paragraph_stay_distinct() -> None:
    assert_distinct(ARTICLE_A + "\n" + STANDARD, ARTICLE_B + "\n" + STANDARD)
    assert_distinct(BODY0 + "\n" + STANDARD, SEED1 + "\n" + STANDARD)
    assert_duplicate(ARTICLE_A + "\n" + STANDARD, ARTICLE_A)  # sanity: the rule is not "never match"


def test_output_shape_and_order() -> None:
    records = [
        {"id": "a", "text": ARTICLE_A, "title": "Đà Nẵng tổng kết", "url": "https://x.vn/a", "published": "2024-03-12T08:00:00+07:00"},
        {"id": "b", "text": ARTICLE_B},
        {"id": 7, "text": ARTICLE_A},
        {"id": "a", "text": ARTICLE_A},
        {"id": "e", "text": " ... "},
        {"id": "f", "text": " ... "},
    ]
    out = list(dedup_records(records, MemoryIndex(), MinHasher()))
    assert [o["id"] for o in out] == ["a", "b", "7", "a", "e", "f"]
    assert all(set(o) == {"id", "status", "duplicate_of", "cluster", "similarity"} for o in out)
    assert out[0] == {"id": "a", "status": "unique", "duplicate_of": None, "cluster": "a", "similarity": None}
    assert out[2] == {"id": "7", "status": "duplicate", "duplicate_of": "a", "cluster": "a", "similarity": 1.0}
    assert out[3]["status"] == "duplicate" and out[3]["duplicate_of"] == "a"  # same id, same text again
    assert [o["status"] for o in out[4:]] == ["unique", "unique"]  # empty texts are never matched


def test_title_is_used_only_when_the_body_is_empty() -> None:
    assert matching_text(ARTICLE_A, "Một tiêu đề") == matching_text(ARTICLE_A)
    assert matching_text("", "Một tiêu đề") == "một tiêu đề"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"text": "x"}, "line 2: missing or invalid 'id'"),
        ({"id": "", "text": "x"}, "line 2: missing or invalid 'id'"),
        ({"id": "b"}, "line 2: missing or invalid 'text'"),
        ({"id": "b", "text": 3}, "line 2: missing or invalid 'text'"),
        ("not an object", "line 2: expected a JSON object"),
        ({"id": "b", "text": "x", "published": "yesterday"}, "line 2: 'published'"),
    ],
)
def test_bad_records_name_the_line(record: Any, message: str) -> None:
    results = dedup_records([{"id": "a", "text": ARTICLE_A}, record], MemoryIndex(), MinHasher())
    first = next(results)
    assert first["id"] == "a"
    with pytest.raises(ValueError, match=re.escape(message)):
        next(results)


# --- real articles (baomoi-2017 from ../shared; skipped without it) ---------------------------


def test_baomoi_transformations_and_distinct_pairs(shared_dir: Path) -> None:
    with gzip.open(shared_dir / "corpora" / "baomoi-2017.jsonl.gz", "rt", encoding="utf-8") as fh:
        corpus = [json.loads(line) for line in fh]
    by_title: dict[str, dict[str, str]] = {}
    for r in corpus:
        by_title.setdefault(r["title"], r)
    pool = [r for r in by_title.values() if len(r["text"].split()) >= 80]
    rng = random.Random(5)
    sample = rng.sample(pool, 40)
    vocab = [w for r in rng.sample(pool, 50) for w in r["text"].split() if w.isalpha()]
    cases = {
        "nfd": [unicodedata.normalize("NFD", r["text"]) for r in sample],
        "old_style": [old_style(r["text"]) for r in sample],
        "header_footer": [HEADER + r["text"] + FOOTER for r in sample],
        "first_70": [r["text"][: int(len(r["text"]) * 0.7)].rsplit(" ", 1)[0] for r in sample],
        "edit_10": [edit_words(r["text"], 0.1, i, vocab) for i, r in enumerate(sample)],
    }
    recall = {}
    for name, copies in cases.items():
        hits = sum(run(r["text"], c)[1]["status"] == "duplicate" for r, c in zip(sample, copies, strict=True))
        recall[name] = hits / len(sample)
    assert recall["nfd"] == recall["old_style"] == recall["header_footer"] == 1.0, recall
    assert recall["first_70"] >= 0.95 and recall["edit_10"] >= 0.9, recall
    pairs = [rng.sample(pool, 2) for _ in range(150)]
    false_pos = sum(run(a["text"], b["text"])[1]["status"] == "duplicate" for a, b in pairs)
    assert false_pos == 0
