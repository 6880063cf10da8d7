"""Site-rule extraction on real captured pages (tests/fixtures/vn-pages), plus bad input.

Expected values come from ../shared/README.md (titles, published times, categories) and
from reading the pages (body sentences). Related-news teaser titles are collected from
each page's related boxes with parsel, independently of the extractor, and must not
appear in the body.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from parsel import Selector

from crawler.extract import decode_html, extract_article, parse_vn_datetime
from crawler.site_config import load_sites

PAGES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "vn-pages"
PLUS7 = timedelta(hours=7)

CASES = {
    "dantri": dict(
        file="dantri_article.html",
        url="https://dantri.com.vn/kinh-doanh/gia-vang-giam-van-cao-hon-the-gioi-gan-20-trieu-dongluong-20260307080054340.htm",
        title="Giá vàng giảm, vẫn cao hơn thế giới gần 20 triệu đồng/lượng",
        published="2026-03-07T08:07:00+07:00",
        category="Tài chính",
        article_id="20260307080054340",
        body=[
            "giá vàng miếng SJC được niêm yết tại mức 180,8-183,8 triệu đồng/lượng (mua - bán)",
            "Trong nước, Ngân hàng Nhà nước công bố tỷ giá trung tâm của đồng Việt Nam với USD hiện ở mức 25.057 đồng.",
        ],
        sapo_start="Giá vàng trong nước tiếp tục giảm",
        related=['aside[data-module="related-article-in-content"] a', 'article[data-content-name="article-related"] [data-prop="title"]'],
        min_related=3,
    ),
    "tuoitre": dict(
        file="tuoitre_article.html",
        url="https://tuoitre.vn/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm",
        title="Chiến sự đẩy giá hoa nhập khẩu dịp 8-3 tăng mạnh",
        published="2026-03-07T08:01:53+07:00",
        category="Kinh doanh",
        article_id="20260307075519174",
        body=[
            "Nhiều chuyến bay vận chuyển hoa từ các thị trường truyền thống như Hà Lan hay Ecuador không thể về đúng kế hoạch",
            "Ông Lâm Phương Toàn, chủ một cửa hàng hoa, cho biết cửa hàng chỉ nhập một lượng nhỏ hoa tươi",
        ],
        sapo_start="Xung đột ở khu vực Trung Đông",
        related=[
            'div[type="RelatedOneNews"] a.OneNewsTitle',
            '[data-marked-zoneid="tto_detail_relateboot"] a.box-category-link-title',
            '[data-marked-zoneid="tto_detail_tin_cung_muc"] a.box-category-link-title',
        ],
        min_related=8,
    ),
    "vnexpress": dict(
        file="vnexpress_article.html",
        url="https://vnexpress.net/cach-cac-nuoc-doi-pho-cu-soc-nang-luong-tu-trung-dong-5047363.html",
        title="Cách các nước đối phó cú sốc năng lượng từ Trung Đông",
        published="2026-03-07T00:05:00+07:00",
        category="Phân tích",
        article_id="5047363",
        body=[
            "Thái Lan cũng thông báo tạm dừng xuất khẩu nhiên liệu tinh chế đến các nước, trừ Lào và Myanmar, theo Bangkok Post.",
            "Với Việt Nam, Bộ Công Thương nhận định thị trường xăng dầu đang diễn biến khó lường.",
        ],
        sapo_start="Trung Quốc, Nhật Bản, Thái Lan hạn chế xuất khẩu nhiên liệu",
        # the related box ("tin_xemthem") is filled by JavaScript: only the topic strip has teasers
        related=['[data-component-type="tin_xemthem"] a', "ul.ul-mn-topic a"],
        min_related=3,
    ),
    "nld": dict(
        file="nld_article.html",
        url="https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-thuong-gap-khi-thuc-hien-quy-dinh-moi-ve-thue-196260307071308923.htm",
        title="Những sai sót hộ kinh doanh thường gặp khi thực hiện quy định mới về thuế",
        published="2026-03-07T08:06:00+07:00",
        category="Kinh tế",
        article_id="196260307071308923",
        body=[
            "Chính phủ vừa ban hành Nghị định 68/2026/NĐ-CP quy định chính sách thuế và quản lý thuế",
            # a drop cap split over two <span>s: inline markup must not add a space
            "Trước khi tính thuế, hộ kinh doanh, cá nhân được trừ mức doanh thu 500 triệu đồng/năm.",
        ],
        sapo_start="Không ít hộ kinh doanh chưa quen",
        related=['div[type="RelatedNewsBox"] a.title', '[data-marked-zoneid="nld_detail_tinlienquan"] a.box-category-link-title'],
        min_related=5,
    ),
}


def read_page(name: str) -> bytes:
    data = (PAGES_DIR / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def teaser_titles(html: str, selectors: list[str]) -> list[str]:
    """Teaser titles of the page's related boxes (long enough to be a meaningful substring test)."""
    sel = Selector(text=html)
    titles = []
    for css in selectors:
        for node in sel.css(css):
            text = " ".join(" ".join(node.css("::text").getall()).split()) or node.attrib.get("title", "")
            text = unicodedata.normalize("NFC", text)
            if len(text.split()) >= 4:
                titles.append(text)
    return titles


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("with_url", [True, False], ids=["url", "canonical"])
def test_real_article_page(name: str, with_url: bool) -> None:
    case = CASES[name]
    data = read_page(case["file"])
    art = extract_article(data, url=case["url"] if with_url else None)
    assert art.site == name  # without a URL the page's canonical link picks the rules
    assert art.site_article_id == case["article_id"]
    assert art.title == case["title"]
    assert art.published is not None
    assert art.published.isoformat() == case["published"]
    assert art.published.utcoffset() == PLUS7
    assert art.category == case["category"]
    assert art.sapo.startswith(case["sapo_start"])  # "(Dân trí) -" style prefixes stripped
    assert not art.used_fallback
    assert art.authors
    body = "\n\n".join(art.paragraphs)
    for sentence in case["body"]:
        assert sentence in body
    teasers = teaser_titles(data.decode("utf-8"), case["related"])
    assert len(teasers) >= case["min_related"]
    for teaser in teasers:
        assert teaser not in body, teaser
    for p in art.paragraphs:  # NFC, folded whitespace
        assert p == unicodedata.normalize("NFC", p) and p == " ".join(p.split())
    for image in art.images:
        assert image["caption"] not in body or not image["caption"]


def test_vnexpress_matches_fundus_ground_truth() -> None:
    truth = json.loads((PAGES_DIR / "VnExpress.json").read_text(encoding="utf-8"))["V1"]
    url = "https://vnexpress.net/dau-bung-keo-dai-phat-hien-ung-thu-lymphoma-ruot-non-4954454.html"
    art = extract_article(read_page("VnExpress_2025_10_22.html.gz"), url=url)
    assert art.title == truth["title"]
    assert art.authors == truth["authors"]
    assert [art.sapo] == truth["body"]["summary"]
    assert art.published == datetime.fromisoformat(truth["publishing_date"])
    assert set(truth["topics"]) <= set(art.tags)
    expected = [p for s in truth["body"]["sections"] for p in s["paragraphs"]]
    # fundus keeps the photo caption as a paragraph; here it is the image's caption instead
    captions = [img["caption"] for img in art.images]
    assert "Y bác sĩ nội soi cho bệnh nhân. Ảnh: Bệnh viện cung cấp" in captions
    assert art.paragraphs == [p for p in expected if p not in captions]
    assert art.images[0]["url"].startswith("https://vcdn1-suckhoe.vnecdn.net/2025/10/22/no-i-soi-be-nh-nha-n-")


# -- bad input ---------------------------------------------------------------------------


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 bytes for Vietnamese text: base letters (â ê ô ơ ư ă đ) plus combining tones."""
    out = bytearray()
    for cluster in re.findall(r".[\u0300-\u036f]*", unicodedata.normalize("NFD", text), flags=re.S):
        base, marks = cluster[0], cluster[1:]
        for i, mark in enumerate(marks):
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1:
                try:
                    composed.encode("cp1258")
                except UnicodeEncodeError:
                    continue
                base, marks = composed, marks[:i] + marks[i + 1 :]
                break
        out += (base + marks).encode("cp1258", errors="replace")
    return bytes(out)


@pytest.mark.parametrize("header", [None, "text/html; charset=utf-8"], ids=["meta", "mislabelled-header"])
def test_cp1258_page(header: str | None) -> None:
    html = read_page("VnExpress_2025_10_22.html.gz").decode("utf-8")
    reference = extract_article(html)
    legacy = encode_cp1258(html.replace('<meta charset="utf-8">', '<meta charset="windows-1258">'))
    with pytest.raises(UnicodeDecodeError):
        legacy.decode("utf-8")
    art = extract_article(legacy, headers={"Content-Type": header} if header else None)
    assert art.title == reference.title
    assert art.paragraphs == reference.paragraphs
    assert art.authors == reference.authors


def test_decode_html_variants() -> None:
    text = "<p>Người đàn ông đau bụng kéo dài</p>"
    assert decode_html(text.encode("utf-8"), {"content-type": "text/html; charset=ISO-8859-1"})[0] == text
    assert decode_html(b"\xef\xbb\xbf" + text.encode("utf-8"))[0] == text
    assert decode_html(encode_cp1258(text))[0] == text  # no label at all: detected


def test_truncated_html() -> None:
    data = read_page("dantri_article.html")
    cut = data[: data.index("Đồng USD duy trì đà tăng".encode())]
    art = extract_article(cut, url=CASES["dantri"]["url"])
    assert art.title == CASES["dantri"]["title"]
    assert any("giá vàng miếng SJC" in p for p in art.paragraphs)
    assert art.published is not None


@pytest.mark.parametrize("payload", [b"", b"   ", "", "<html><body></body></html>", b"\x00\xff\xfe garbage"])
def test_empty_or_garbage_page(payload: bytes | str) -> None:
    art = extract_article(payload, url="https://vnexpress.net/bai-viet-5047363.html")
    assert art.paragraphs == []
    assert art.used_fallback
    assert {"title", "body", "published"} <= set(art.missing)
    assert art.site_article_id == "5047363"


def test_page_without_article() -> None:
    listing = read_page("dantri_list.html")
    art = extract_article(listing, url="https://dantri.com.vn/kinh-doanh.htm")
    assert art.site == "dantri" and art.site_article_id is None
    assert art.used_fallback  # no article body: the generic extractor had its try
    assert "body" in art.missing


def test_unknown_site_uses_generic_extractor() -> None:
    paras = "".join(f"<p>Đoạn văn thứ {i} của bài báo kể về một sự kiện quan trọng ở Hà Nội hôm nay.</p>" for i in range(6))
    html = (
        '<html lang="vi"><head><title>Tin thử</title>'
        '<meta property="article:published_time" content="2026-03-07T08:00:00+07:00"></head>'
        f"<body><article><h1>Tiêu đề bài thử</h1>{paras}</article></body></html>"
    )
    art = extract_article(html, url="https://example.org/tin-thu.html")
    assert art.site is None and art.used_fallback
    assert art.title == "Tiêu đề bài thử"
    assert len(art.paragraphs) >= 2
    assert art.published is not None and art.published.isoformat() == "2026-03-07T08:00:00+07:00"


def test_rules_that_rot_are_reported_and_fall_back() -> None:
    """A site whose selectors no longer match: JSON-LD / meta fill the fields, `missing` says so."""
    site = load_sites()["vnexpress"]
    broken = site.model_copy(update={"extract": site.extract.model_copy(update={
        "title": ["h1.gone"], "body": ["div.gone"], "published": ["span.gone"], "category": ["ul.gone a"]})})
    art = extract_article(read_page("vnexpress_article.html"), site=broken)
    assert {"title", "body", "published", "category"} <= set(art.missing)
    assert art.title == CASES["vnexpress"]["title"]  # from JSON-LD
    assert art.published is not None and art.published.isoformat() == "2026-03-07T00:05:00+07:00"
    assert art.category == "Phân tích"  # last JSON-LD breadcrumb
    assert art.used_fallback and len(art.paragraphs) >= 2


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thứ tư, 22/10/2025, 19:25 (GMT+7)", "2025-10-22T19:25:00+07:00"),
        ("07/03/2026 08:07", "2026-03-07T08:07:00+07:00"),
        ("07/03/2026 - 08:07", "2026-03-07T08:07:00+07:00"),
        ("Thứ bảy, 7/3/2026, 00:05 (GMT+7)", "2026-03-07T00:05:00+07:00"),
        ("07/03/2026 08:01 GMT+7", "2026-03-07T08:01:00+07:00"),
        ("08:07 7/3/2026", "2026-03-07T08:07:00+07:00"),
        ("2026-03-07 08:07", "2026-03-07T08:07:00+07:00"),
        ("2026-03-07T08:01:53+07:00", "2026-03-07T08:01:53+07:00"),
        ("2025-10-22T12:25:52Z", "2025-10-22T19:25:52+07:00"),
        ("Sat, 07 Mar 2026 08:07:00 +0700", "2026-03-07T08:07:00+07:00"),
        ("Sat, 07 Mar 2026 01:07:00 GMT", "2026-03-07T08:07:00+07:00"),
        ("3/7/2026 8:07:00 AM", "2026-03-07T08:07:00+07:00"),  # US month-first RSS
        ("ngày 7 tháng 3 năm 2026", "2026-03-07T00:00:00+07:00"),
        ("1761135952", "2025-10-22T19:25:52+07:00"),
    ],
)
def test_parse_vn_datetime(text: str, expected: str) -> None:
    dt = parse_vn_datetime(text)
    assert dt is not None and dt.isoformat() == expected


def test_parse_vn_datetime_rejects_non_dates() -> None:
    for text in ("", None, "hello", "13/25/2026", "hôm qua"):
        assert parse_vn_datetime(text) is None
    assert parse_vn_datetime("03/07/2026 08:07", month_first=True).isoformat() == "2026-03-07T08:07:00+07:00"
    assert parse_vn_datetime("07.03.2026 lúc 8h07", formats=["%d.%m.%Y lúc %Hh%M"]).hour == 8
