from pathlib import Path

import pytest

from docqueue.settings import Settings, SettingsError, load_settings, mask_url, settings_table_markdown


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REDIS_URL", "NEWSDEDUP_CONFIG", "NEWSDEDUP_DATA", "NEWSDEDUP_KEY_PREFIX"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.redis_url is None
    assert s.key_prefix == "newsdedup:"
    assert s.data_dir == Path(".newsdedup")


def test_file_then_env_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "newsdedup.toml"
    cfg.write_text('key_prefix = "file:"\ndedup_threshold = 0.6\nqueue_max_deliveries = 3\n')
    monkeypatch.setenv("NEWSDEDUP_DEDUP_THRESHOLD", "0.7")
    monkeypatch.setenv("REDIS_URL", "redis://user:secret@example:6379/0")
    s = load_settings(cfg)
    assert s.key_prefix == "file:"  # from the file
    assert s.dedup_threshold == 0.7  # env beats file
    assert s.queue_max_deliveries == 3
    assert "secret" not in str(s.masked())
    assert s.masked()["redis_url"] == "redis://user:***@example:6379/0"


def test_config_path_from_env_and_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "conf.yaml"
    cfg.write_text("newsdedup:\n  consumer_group: analytics\n")
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(cfg))
    assert load_settings().consumer_group == "analytics"


@pytest.mark.parametrize(
    ("content", "needle"),
    [("bogus_key = 1\n", "bogus_key"), ("dedup_threshold = 3\n", "dedup_threshold"), ("x = [\n", "cannot parse")],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, content: str, needle: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    with pytest.raises(SettingsError) as err:
        load_settings(cfg)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"nope\.toml"):
        load_settings(tmp_path / "nope.toml")


def test_mask_url_without_password() -> None:
    assert mask_url("redis://localhost:6379/0") == "redis://localhost:6379/0"


def test_table_lists_every_setting() -> None:
    table = settings_table_markdown()
    for name in Settings.model_fields:
        assert f"`{name}`" in table
