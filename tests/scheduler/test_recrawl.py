"""`newsdedup recrawl` against the local mirror: a changed page becomes version 2, an unchanged
page publishes nothing, --dry-run publishes nothing, unsafe or foreign URLs are refused."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis

from crawler.mirror import MirrorServer
from scheduler.tasks import TaskQueue
from tests.cli_helpers import run_cli
from tests.mirror_fixtures import make_mirror  # noqa: F401 - fixture
from tests.scheduler._helpers import mirror_env, published, worker_args


def _single_article(mirror: MirrorServer) -> tuple[str, str, str]:
    """(site, article id, url) of a story no other site carries (its verdict is `new`)."""
    for pages in mirror.content.stories().values():
        if len(pages) == 1:
            a = pages[0]
            return a.site, a.article_id, mirror.origins[a.site] + a.path
    raise AssertionError("no single-site story in the mirror")


def _one_line_refusal(proc: object) -> str:
    err = proc.stderr.strip()  # type: ignore[attr-defined]
    assert proc.returncode == 2, (proc.returncode, err)  # type: ignore[attr-defined]
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return str(err)


def test_changed_page_is_version_2_unchanged_publishes_nothing(
        redis_url: str, redis_client: redis.Redis, make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    site, article_id, url = _single_article(mirror)
    doc_id = f"{site}:{article_id}"

    first = run_cli("recrawl", "--url", url, "--json", env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert [(i, v) for i, v, _ in published(redis_client)] == [(doc_id, 1)]

    unchanged = run_cli("recrawl", "--url", url, "--json", env=env)
    assert unchanged.returncode == 0, unchanged.stderr[-2000:]
    assert len(published(redis_client)) == 1
    assert json.loads(unchanged.stdout)["documents_queued"] == 0

    assert mirror.update_article(site, article_id) == 2
    dry = run_cli("recrawl", "--url", url, "--dry-run", env=env)
    assert dry.returncode == 0 and dry.stdout.split() == [url], dry.stderr
    assert len(published(redis_client)) == 1

    changed = run_cli("recrawl", "--url", url, "--json", env=env)
    assert changed.returncode == 0, changed.stderr[-2000:]
    docs = published(redis_client)
    assert [(i, v) for i, v, _ in docs] == [(doc_id, 1), (doc_id, 2)]
    assert docs[1][2]["title"] == mirror.article(site, article_id).version.title


def test_enqueued_recrawl_is_done_by_a_worker(
        redis_url: str, redis_client: redis.Redis, make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    site, article_id, url = _single_article(mirror)
    assert run_cli("recrawl", "--url", url, env=env).returncode == 0
    mirror.update_article(site, article_id)
    queued = run_cli("recrawl", "--url", url, "--enqueue", env=env)
    assert queued.returncode == 0, queued.stderr
    [line] = queued.stdout.splitlines()
    assert line.split("\t")[1:] == ["article", site, url]
    assert len(published(redis_client)) == 1  # nothing fetched yet: the workers do it
    worker = run_cli(*worker_args(mirror, "w", "--exit-when-idle", "1"), env=env)
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert [v for _i, v, _ in published(redis_client)] == [1, 2]
    assert TaskQueue(redis_client).drained()


def test_site_dry_run_lists_articles_and_publishes_nothing(
        redis_url: str, redis_client: redis.Redis, make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    proc = run_cli("recrawl", "--site", "vnexpress", "--dry-run", env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = {a.url for a in mirror.expected_articles() if a.site == "vnexpress"}
    listed = set(proc.stdout.split())
    assert expected <= listed and all(u.startswith(mirror.origins["vnexpress"]) for u in listed)
    assert redis_client.xlen("newsdedup:docs") == 0


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/latest/",
                                 "http://[::1]:8080/x", "http://10.0.0.7/news-1.html"])
def test_private_addresses_are_refused(redis_url: str, url: str) -> None:
    err = _one_line_refusal(run_cli("recrawl", "--url", url, "--dry-run", env=mirror_env(redis_url)))
    assert "non-public address" in err and url in err


def test_url_outside_every_site_is_refused(redis_url: str) -> None:
    err = _one_line_refusal(run_cli("recrawl", "--url", "https://example.org/a.html", env=mirror_env(redis_url)))
    assert "outside every configured site" in err


def test_loopback_allowed_only_for_a_configured_origin(
        redis_url: str, make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    site, _id, url = _single_article(mirror)
    ok = run_cli("recrawl", "--url", url, "--dry-run", env=env)
    assert ok.returncode == 0 and ok.stdout.split() == [url], ok.stderr
    other_port = url.replace(mirror.origins[site], "http://127.0.0.1:1")
    assert "non-public address" in _one_line_refusal(run_cli("recrawl", "--url", other_port, "--dry-run", env=env))


def test_redirect_to_a_private_address_is_refused(
        redis_url: str, redis_client: redis.Redis, make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    site = sorted(mirror.origins)[0]
    url = mirror.failure_urls(site)["redirect-private"]
    proc = run_cli("recrawl", "--url", url, "--json", env=env)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f"{url}: refused" in proc.stderr and "non-public address" in proc.stderr
    assert json.loads(proc.stdout)["refused_unsafe"] == 1  # PrivateAddressGuard stopped the redirect hop
    assert redis_client.xlen("newsdedup:docs") == 0


def test_site_recrawl_and_since_window(
        redis_url: str, redis_client: redis.Redis, make_mirror: Callable[..., MirrorServer]) -> None:  # noqa: F811
    mirror = make_mirror()
    env = mirror_env(redis_url, mirror)
    first = run_cli("recrawl", "--site", "vnexpress", "--json", env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    fetched = json.loads(first.stdout)["sites"]["vnexpress"]["pages"]
    expected = [a for a in mirror.expected_articles() if a.site == "vnexpress"]
    assert fetched == len(expected) and redis_client.xlen("newsdedup:docs") > 0
    queued = redis_client.xlen("newsdedup:docs")

    again = run_cli("recrawl", "--site", "vnexpress", "--json", env=env)  # seen: no article refetched
    assert again.returncode == 0 and json.loads(again.stdout)["sites"]["vnexpress"]["pages"] == 0

    window = run_cli("recrawl", "--since", "1h", "--dry-run", env=env)
    assert window.returncode == 0, window.stderr
    listed = window.stdout.split()
    published_urls = {doc["url"] for _i, _v, doc in published(redis_client)}
    assert set(listed) >= published_urls and len(listed) == len(set(listed))

    forced = run_cli("recrawl", "--site", "vnexpress", "--force", "--json", env=env)
    summary = json.loads(forced.stdout)
    assert forced.returncode == 0 and summary["sites"]["vnexpress"]["pages"] == len(expected)
    assert summary["documents_queued"] == 0 and redis_client.xlen("newsdedup:docs") == queued
