"""Learned boilerplate blocks (dedup.block_learning): both stores, same rules, same answers."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator

import pytest
import redis

from crawler.mirror.content import demo_articles
from dedup.block_learning import BlockLearner, Page

BOILER = ("Mọi phản ánh, ý kiến, thông tin nóng, bài vở cộng tác của độc giả có thể gửi cho chúng tôi "
          "theo địa chỉ email của tòa soạn, chúng tôi sẽ phản hồi trong thời gian sớm nhất.")
# One word changed ("sớm" -> "ngắn"), spacing doubled, old tone style ("toà"), NFD, upper case start.
VARIANT = unicodedata.normalize("NFD", "MỌI phản  ánh, ý kiến,  thông tin nóng, bài vở cộng tác của độc giả có "
                                       "thể gửi cho chúng tôi theo địa chỉ email của toà soạn, chúng tôi sẽ phản "
                                       "hồi trong thời gian ngắn nhất.")
ARTICLES = [a for a in demo_articles() if len(a.paragraphs) >= 3]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Iterator[Callable[..., BlockLearner]]:
    client: redis.Redis | None = None
    if request.param == "redis":
        client = request.getfixturevalue("redis_client")

    def build(**kwargs: object) -> BlockLearner:
        return BlockLearner(client, **kwargs)  # type: ignore[arg-type]

    yield build


def body(n: int) -> list[str]:
    """Distinct real article paragraphs for page n."""
    return list(ARTICLES[n % len(ARTICLES)].paragraphs)


def test_block_on_three_pages_is_dropped_from_later_and_recleaned_pages(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    for n in (1, 2):
        kept, removed = learner.filter("dantri", f"d{n}", [*body(n), BOILER])
        assert removed == 0 and BOILER in kept
    kept, removed = learner.filter("dantri", "d3", [*body(3), BOILER])
    assert removed == 1 and kept == body(3), "the third distinct page reaches min_pages"
    kept, removed = learner.filter("dantri", "d4", [*body(4)[:2], BOILER, *body(4)[2:]])
    assert removed == 1 and kept == body(4), "article paragraphs around the block stay, in order"
    kept, removed = learner.filter("dantri", "d1", [*body(1), BOILER])  # page 1 re-cleaned
    assert removed == 1 and kept == body(1)


def test_same_block_on_different_sites_is_not_learned(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    for n, site in enumerate(("dantri", "tuoitre", "vnexpress", "nld")):
        kept, removed = learner.filter(site, f"x{n}", [*body(n), BOILER])
        assert removed == 0 and BOILER in kept


def test_recrawling_one_page_does_not_count_as_many_pages(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    for _ in range(4):
        assert learner.filter("dantri", "same", [*body(1), BOILER])[1] == 0
    assert learner.filter("dantri", "other", [*body(2), BOILER])[1] == 0, "two distinct pages so far"
    assert learner.filter("dantri", "third", [*body(3), BOILER])[1] == 1


def test_near_identical_variant_counts_as_the_same_block(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    learner.filter("nld", "p1", [*body(1), BOILER])
    learner.filter("nld", "p2", [*body(2), BOILER])
    kept, removed = learner.filter("nld", "p3", [*body(3), VARIANT])
    assert removed == 1 and VARIANT not in kept
    kept, removed = learner.filter("nld", "p4", [*body(4), BOILER])
    assert removed == 1 and kept == body(4)


def test_unrelated_paragraph_ending_the_same_way_is_not_matched(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    other = "Ban tổ chức cho biết vé sẽ được bán trực tuyến từ tuần sau và chúng tôi sẽ phản hồi trong thời gian sớm nhất."
    for n in range(1, 4):
        learner.filter("nld", f"p{n}", [*body(n), BOILER])
    assert learner.filter("nld", "p9", [*body(9), other]) == ([*body(9), other], 0)


def test_teaser_of_another_articles_lead_is_removed(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    target = ARTICLES[2]
    learner.filter("tuoitre", "lead-owner", list(target.paragraphs), target.lead)
    words = target.lead.split()
    teaser = " ".join(words[:17])[:-2] + "..."  # cut mid-word, as sites truncate
    listy = "Đoàn mang theo nhiều loại hàng: gạo, mì tôm, nước uống, thuốc men, chăn màn…"
    page = [*body(5)[:2], teaser, listy, *body(5)[2:]]
    kept, removed = learner.filter("tuoitre", "reader", page)
    assert removed == 1 and teaser not in kept and listy in kept
    # the same truncated lead on its own page, or on another site, is no teaser of *another* article
    assert learner.filter("tuoitre", "lead-owner", [teaser, *target.paragraphs], target.lead)[1] == 0
    assert learner.filter("dantri", "reader", page)[1] == 0


def test_teaser_in_the_same_batch_as_its_article(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    target = ARTICLES[3]
    teaser = " ".join(target.lead.split()[:12]) + "…"
    results = learner.filter_batch([
        Page("vnexpress", "reader", [*body(6), teaser]),
        Page("vnexpress", "owner", list(target.paragraphs), target.lead),
    ])
    assert results[0] == (body(6), 1)
    assert results[1] == (list(target.paragraphs), 0)


def test_short_common_blocks_are_not_learned(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    for n in range(1, 7):
        page = [*body(n)[:2], "Theo các chuyên gia của", "Trung Quốc",
                "vẫn dẫn đầu.", "Video", *body(n)[2:], "Theo Dân trí"]
        kept, removed = learner.filter("dantri", f"s{n}", page)
        assert "Trung Quốc" in kept and "Theo các chuyên gia của" in kept and "Video" in kept
    # a short line standing on its own ("Theo <source>") is a template line and is learned
    assert "Theo Dân trí" not in kept and removed == 1


def test_copies_of_one_article_are_never_emptied(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    article = body(7)
    for n in range(6):
        kept, removed = learner.filter("nld", f"copy{n}", article)
        assert kept == article and removed == 0, "learned blocks over half the page: a copy, not boilerplate"
    assert learner.filter("nld", "only-boiler", [BOILER])[0] == [BOILER]
    for n in range(3):
        learner.filter("nld", f"b{n}", [*body(n), BOILER])
    assert learner.filter("nld", "lone", [BOILER]) == ([BOILER], 0), "text is never emptied"


def test_blocks_expire_after_the_window(make: Callable[..., BlockLearner]) -> None:
    clock = Clock()
    learner = make(window_seconds=86400, clock=clock)
    for n in (1, 2):
        learner.filter("dantri", f"d{n}", [*body(n), BOILER])
    clock.now += 86400 + 1
    assert learner.filter("dantri", "d3", [*body(3), BOILER])[1] == 0, "pages 1 and 2 are out of the window"
    clock.now += 3600
    learner.filter("dantri", "d4", [*body(4), BOILER])
    assert learner.filter("dantri", "d5", [*body(5), BOILER])[1] == 1


def test_batch_equals_one_page_at_a_time(make: Callable[..., BlockLearner]) -> None:
    pages = [Page(site, f"{site}{n}", [*body(n), BOILER, "Theo Tuổi Trẻ"], ARTICLES[n % len(ARTICLES)].lead)
             for n in range(8) for site in ("a", "b")]
    one, batch = make(prefix="one:"), make(prefix="batch:")
    assert [one.filter(*p) for p in pages] == batch.filter_batch(pages)


def test_clean_documents_rewrites_text_and_counts(make: Callable[..., BlockLearner]) -> None:
    learner = make()
    docs = [{"id": f"d{n}", "site": "dantri", "sapo": ARTICLES[n].lead, "removed_blocks": 1,
             "text": "\n\n".join([*body(n), BOILER])} for n in range(4)]
    assert learner.clean_documents(docs) == 2
    assert [d["removed_blocks"] for d in docs] == [1, 1, 2, 2]
    assert docs[3]["text"] == "\n\n".join(body(3))


def test_redis_layout_one_expiring_key_per_site(redis_client: redis.Redis) -> None:
    learner = BlockLearner(redis_client, prefix="nd:", window_seconds=86400)
    learner.filter("dantri", "d1", [*body(1), BOILER])
    learner.filter("tuoitre", "t1", [*body(2), BOILER])
    keys = sorted(k.decode() for k in redis_client.keys("*"))
    assert keys == ["nd:blocks:{dantri}", "nd:blocks:{tuoitre}"]
    assert 86400 < redis_client.ttl("nd:blocks:{dantri}") <= 86400 + 86400 // 16
    with pytest.raises(redis.ResponseError, match="other parameters"):
        BlockLearner(redis_client, prefix="nd:", rows=5).filter("dantri", "d2", body(3))
