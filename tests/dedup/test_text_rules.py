"""Text-level boilerplate rules: related-news blocks, site chrome, plain-text titles."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup.text_rules import (
    DEFAULT_RULES,
    TextRules,
    clean_paragraphs,
    clean_plain_text,
    split_paragraphs,
    strip_related_blocks,
    strip_site_chrome,
)

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"
SEED0 = (SEEDS / "000_c2a6c58238d759cb.txt").read_text(encoding="utf-8")
SEED1 = (SEEDS / "001_34fc34c2a117d8ed.txt").read_text(encoding="utf-8")

LAST_SENTENCE_000 = (
    "Về phần mình, Triều Tiên tuyên bố trong trường hợp nước này đưa quân tới Nga, "
    "đây sẽ là hành động tuân thủ luật pháp quốc tế."
)
P1 = (
    "Sáng 12/3, Ủy ban nhân dân thành phố Đà Nẵng tổ chức hội nghị tổng kết công tác phòng chống thiên tai "
    "năm qua, với sự tham gia của đại diện các sở, ngành và chính quyền các quận, huyện trên địa bàn."
)
P2 = (
    "Theo báo cáo, trong năm thành phố chịu ảnh hưởng của năm cơn bão và hai đợt áp thấp nhiệt đới, gây thiệt "
    "hại ước tính hơn 300 tỷ đồng, chủ yếu là hạ tầng giao thông, đê kè và diện tích cây trồng ven sông."
)
P3 = (
    "Phát biểu kết luận, lãnh đạo thành phố yêu cầu các đơn vị rà soát phương án sơ tán dân, chuẩn bị đủ vật tư, "
    "phương tiện và lực lượng tại chỗ trước mùa mưa bão, không để bị động trong mọi tình huống."
)


def test_seed_000_ends_with_last_sentence_before_block() -> None:
    clean = clean_plain_text(SEED0)
    assert clean.title == "Nga và Triều Tiên sắp hoàn tất phê chuẩn hiệp ước phòng thủ chung"
    assert clean.paragraphs[-1] == LAST_SENTENCE_000
    assert clean.text.endswith(LAST_SENTENCE_000)
    assert clean.removed_blocks == 1
    for fragment in ("TIN CÙNG CHỦ ĐỀ", "Tin tức 1", "Novohrodivka", "Slovakia", "California", "wildfires", "..."):
        assert fragment not in clean.text
    body_before = SEED0.split("TIN CÙNG CHỦ ĐỀ")[0]
    assert clean.paragraphs == split_paragraphs(body_before)[1:]


def test_seed_001_comes_out_whole() -> None:
    clean = clean_plain_text(SEED1)
    assert clean.title is None
    assert clean.removed_blocks == 0
    assert clean.paragraphs == [line.strip() for line in SEED1.splitlines() if line.strip()]


def test_block_in_the_middle_keeps_text_before_and_after() -> None:
    paragraphs = [
        P1, "Tin liên quan:",
        "Đà Nẵng chủ động ứng phó bão số 9",
        "Sơ tán hơn 2.000 hộ dân ven biển trước khi bão đổ bộ...",
        "Người dân miền Trung chằng chống nhà cửa (Ảnh: Văn Minh)",
        P2, P3,
    ]
    kept, removed = strip_related_blocks(paragraphs)
    assert kept == [P1, P2, P3]
    assert removed == 1


@pytest.mark.parametrize(
    "heading",
    ["TIN CÙNG CHỦ ĐỀ", "Tin liên quan", "TIN LIÊN QUAN:", "  tin   liên quan ", "Tin lien quan", "Xem thêm",
     "ĐỌC THÊM", "Bài liên quan", "Có thể bạn quan tâm", "Tin khác", "Tin mới", "Đọc tiếp >>", "CÙNG CHUYÊN MỤC",
     "Tin cùng chuyên mục"],
)
def test_heading_variants(heading: str) -> None:
    kept, removed = strip_related_blocks([P1, heading, "Giá xăng giảm mạnh từ chiều nay", P2])
    assert (kept, removed) == ([P1, P2], 1)


@pytest.mark.parametrize(
    "sentence",
    [
        "Tin liên quan đến vụ việc đã được cơ quan công an xác minh và công bố vào chiều cùng ngày.",
        "Xem thêm thông tin chi tiết tại cổng thông tin điện tử của Bộ Y tế.",
        "Người dân có thể đọc thêm hướng dẫn trên trang web của sở.",
    ],
)
def test_sentence_containing_the_words_is_not_a_heading(sentence: str) -> None:
    kept, removed = strip_related_blocks([P1, sentence, P2])
    assert (kept, removed) == ([P1, sentence, P2], 0)


def test_teaser_titles_with_full_leads_then_article() -> None:
    paragraphs = [
        P1, "Bài liên quan",
        "Hà Nội cấm xe máy từ năm 2030",
        "Thành phố đã thông qua đề án hạn chế xe máy ở các quận nội thành.",
        "Giá vàng tăng mạnh sau Tết",
        "Giá vàng trong nước tăng thêm 200.000 đồng mỗi lượng.",
        P2,
    ]
    assert strip_related_blocks(paragraphs) == ([P1, P2], 1)


def test_two_blocks_and_inline_link() -> None:
    paragraphs = [
        P1, "Xem thêm: Đà Nẵng chủ động ứng phó bão số 9", P2,
        "Tin cùng chuyên mục", "Tin tức 1", "Mưa lớn gây ngập nhiều tuyến phố...", P3,
        "Có thể bạn quan tâm", "Ba món ăn giúp ấm người ngày rét",
    ]
    kept, removed = strip_related_blocks(paragraphs)
    assert kept == [P1, P2, P3]
    assert removed == 3


def test_heading_at_the_end_alone() -> None:
    assert strip_related_blocks([P1, P2, "Tin liên quan"]) == ([P1, P2], 1)


def test_configurable_headings() -> None:
    rules = TextRules(headings=("Tin nổi bật trong ngày",))
    paragraphs = [P1, "TIN NỔI BẬT TRONG NGÀY", "Giá xăng giảm mạnh", P2]
    assert strip_related_blocks(paragraphs, rules) == ([P1, P2], 1)
    assert strip_related_blocks([P1, "Tin liên quan", P2], rules) == ([P1, "Tin liên quan", P2], 0)
    assert DEFAULT_RULES.is_heading("TIN CÙNG CHỦ ĐỀ")


def test_site_chrome_only_at_the_edges() -> None:
    paragraphs = [
        "Trang chủ | Thời sự | Xã hội | Môi trường",
        "Thứ Năm, 07/11/2024 08:15 (GMT+7)",
        P1, "Hà Nội | TP.HCM | Đà Nẵng đều có mưa", P2,
        "© 2024 Báo điện tử Tin Nhanh. Giấy phép số 123/GP-BTTTT.",
        "Ghi rõ nguồn 'Tin Nhanh' khi phát hành lại thông tin từ website này.",
    ]
    kept, removed = strip_site_chrome(paragraphs)
    assert kept == [P1, "Hà Nội | TP.HCM | Đà Nẵng đều có mưa", P2]
    assert removed == 2
    assert strip_site_chrome([P1, P2]) == ([P1, P2], 0)


def test_clean_plain_text_with_header_footer_and_block() -> None:
    text = "\n".join([
        "Trang chủ | Thời sự | Xã hội", "Đà Nẵng tổng kết công tác phòng chống thiên tai",
        P1, P2, "Tin liên quan", "Đà Nẵng chủ động ứng phó bão số 9", P3,
        "© Copyright 2024 Báo Tin Nhanh. Tổng biên tập: Nguyễn Văn An.",
    ])
    clean = clean_plain_text(text)
    assert clean.title == "Đà Nẵng tổng kết công tác phòng chống thiên tai"
    assert clean.paragraphs == [P1, P2, P3]
    assert clean.removed_blocks == 3
    assert clean_paragraphs([P1, "Tin liên quan", "Một tiêu đề ngắn", P2]) == ([P1, P2], 1)


def test_title_only_when_headline_like() -> None:
    assert clean_plain_text("Một câu ngắn kết thúc bằng dấu chấm.\n" + P1).title is None
    assert clean_plain_text("Vì sao giá vàng tăng?\n" + P1).title == "Vì sao giá vàng tăng?"
    assert clean_plain_text(P1).title is None  # a single line is the body
    assert clean_plain_text("").paragraphs == []
