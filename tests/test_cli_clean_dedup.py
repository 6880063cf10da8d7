"""`newsdedup clean` and `newsdedup dedup` as scripts call them (DESIGN's contract)."""

from __future__ import annotations

import gzip
import json
import unicodedata
from pathlib import Path

from tests.cli_helpers import cli_env, run_cli

FIX = Path(__file__).parent / "fixtures"
SEED0 = FIX / "seeds" / "000_c2a6c58238d759cb.txt"
SEED1 = FIX / "seeds" / "001_34fc34c2a117d8ed.txt"


def lines(stdout: str) -> list[dict]:
    return [json.loads(x) for x in stdout.splitlines() if x.strip()]


def test_clean_many_paths_in_order(tmp_path: Path) -> None:
    pages = FIX / "vn-pages"
    res = run_cli("clean", str(SEED0), str(SEED1), str(pages / "dantri_article.html"),
                  str(pages / "VnExpress_2025_10_22.html.gz"), env=cli_env(data_dir=tmp_path))
    assert res.returncode == 0, res.stderr
    docs = lines(res.stdout)
    assert len(docs) == 4
    seed0 = docs[0]
    assert seed0["title"].startswith("Nga và Triều Tiên")
    assert "TIN CÙNG CHỦ ĐỀ" not in seed0["text"].upper()
    assert seed0["removed_blocks"] >= 1
    assert docs[1]["removed_blocks"] == 0
    assert docs[2]["site"] == "dantri"
    assert docs[2]["title"] == "Giá vàng giảm, vẫn cao hơn thế giới gần 20 triệu đồng/lượng"
    assert docs[2]["published"].startswith("2026-03-07T08:07") and docs[2]["published"].endswith("+07:00")
    assert docs[3]["site"] == "vnexpress"
    for doc in docs:
        assert doc["version"] == 1 and doc["cluster"] == doc["id"] and doc["content_hash"]


def test_clean_url_selects_site_rules(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes((FIX / "vn-pages" / "nld_article.html").read_bytes())
    url = "https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-thuong-gap-khi-thuc-hien-quy-dinh-moi-ve-thue-196260307071308923.htm"
    res = run_cli("clean", str(page), "--url", url, env=cli_env(data_dir=tmp_path))
    doc = lines(res.stdout)[0]
    assert doc["site"] == "nld"
    assert doc["id"] == "nld:196260307071308923"
    assert doc["url"] == url


def test_clean_bad_input_exit_2(tmp_path: Path) -> None:
    env = cli_env(data_dir=tmp_path)
    for args in (["clean", str(tmp_path / "missing.html")], ["clean", str(tmp_path / "x.pdf")],
                 ["clean", str(SEED0), str(SEED1), "--url", "https://x"]):
        if args[1].endswith(".pdf"):
            Path(args[1]).write_bytes(b"%PDF")
        res = run_cli(*args, env=env)
        assert res.returncode == 2, args
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    broken = tmp_path / "broken.html.gz"
    broken.write_bytes(b"not gzip")
    assert run_cli("clean", str(broken), env=env).returncode == 2


def test_clean_survives_garbage_html(tmp_path: Path) -> None:
    page = tmp_path / "junk.htm"
    page.write_bytes(b"<html><body><div>\xff\xfe truncated <p>one")
    gz = tmp_path / "empty.html.gz"
    gz.write_bytes(gzip.compress(b""))
    res = run_cli("clean", str(page), str(gz), env=cli_env(data_dir=tmp_path))
    assert res.returncode == 0, res.stderr
    assert len(lines(res.stdout)) == 2


def body_of_seed0() -> str:
    return SEED0.read_text(encoding="utf-8").split("TIN CÙNG CHỦ ĐỀ")[0]


def test_dedup_contract_and_verdicts(tmp_path: Path) -> None:
    s0, s1 = body_of_seed0(), SEED1.read_text(encoding="utf-8")
    rows = [{"id": "a", "text": s0}, {"id": "b", "text": s1}, {"id": "c", "text": unicodedata.normalize("NFD", s0)},
            {"id": "d", "text": s0, "title": "x", "url": "https://other/a"}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = run_cli("dedup", str(src), "--out", str(out), env=cli_env(data_dir=tmp_path))
    assert res.returncode == 0, res.stderr
    got = lines(out.read_text())
    assert [r["id"] for r in got] == ["a", "b", "c", "d"]
    assert set(got[0]) == {"id", "status", "duplicate_of", "cluster", "similarity"}
    assert got[0]["status"] == "unique" and got[1]["status"] == "unique"
    assert got[2] == {"id": "c", "status": "duplicate", "duplicate_of": "a", "cluster": "a", "similarity": 1.0}
    assert got[3]["duplicate_of"] == "a"


def test_dedup_with_redis_matches_earlier_runs(tmp_path: Path, redis_url: str) -> None:
    s0 = body_of_seed0()
    env = cli_env(redis_url=redis_url)
    first = tmp_path / "one.jsonl"
    first.write_text(json.dumps({"id": "first", "text": s0}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert lines(run_cli("dedup", str(first), "--redis", env=env).stdout)[0]["status"] == "unique"
    second = tmp_path / "two.jsonl"
    second.write_text(json.dumps({"id": "second", "text": s0}, ensure_ascii=False) + "\n", encoding="utf-8")
    res = run_cli("dedup", str(second), "--redis", env=env)
    assert lines(res.stdout)[0]["duplicate_of"] == "first"
    # the in-memory default forgets between runs
    assert lines(run_cli("dedup", str(second), env=env).stdout)[0]["status"] == "unique"


def test_dedup_bad_input_exit_2(tmp_path: Path) -> None:
    env = cli_env(data_dir=tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x"}\n{not json}\n')
    res = run_cli("dedup", str(bad), env=env)
    assert res.returncode == 2 and "line 2" in res.stderr and "Traceback" not in res.stderr
    bad.write_text('{"text": "no id"}\n')
    res = run_cli("dedup", str(bad), env=env)
    assert res.returncode == 2 and "line 1" in res.stderr
    assert run_cli("dedup", str(tmp_path / "nope.jsonl"), env=env).returncode == 2
    assert run_cli("dedup", str(bad), "--threshold", "1.5", env=env).returncode == 2
