"""Mirror fixtures (imported by tests/conftest.py): the local news mirror the crawler tests crawl.

`mirror` carries a few hundred real baomoi articles per site when ../shared is present (read at
run time, never copied), else the packaged demo content; `demo_mirror` always serves the packaged
content. Both are session-wide and shared: a test that changes articles (update_article) must use
`make_mirror` to get its own server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crawler.mirror import MirrorContent, MirrorServer, mirror_from_baomoi
from crawler.mirror import demo_mirror as packaged_demo

# Same resolution as tests/conftest.py's SHARED (not imported: conftest imports this module).
SHARED = Path(os.environ.get("NEWSDEDUP_SHARED", Path(__file__).resolve().parent.parent.parent / "shared"))
BAOMOI = SHARED / "corpora" / "baomoi-2017.jsonl.gz"
MIRROR_PER_SITE = 200


def mirror_content() -> MirrorContent:
    """baomoi-backed content when the shared corpus exists, else the packaged demo content."""
    if BAOMOI.is_file():
        return mirror_from_baomoi(BAOMOI, per_site=MIRROR_PER_SITE)
    return packaged_demo()


@pytest.fixture(scope="session")
def mirror() -> Iterator[MirrorServer]:
    with MirrorServer(mirror_content(), slow_seconds=10.0) as server:
        yield server


@pytest.fixture(scope="session")
def demo_mirror() -> Iterator[MirrorServer]:
    with MirrorServer(packaged_demo(), slow_seconds=10.0) as server:
        yield server


@pytest.fixture()
def make_mirror() -> Iterator[Callable[..., MirrorServer]]:
    """Factory for a private, started MirrorServer (stopped after the test)."""
    started: list[MirrorServer] = []

    def make(content: MirrorContent | None = None, **kwargs: object) -> MirrorServer:
        server = MirrorServer(content if content is not None else packaged_demo(), **kwargs)  # type: ignore[arg-type]
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
