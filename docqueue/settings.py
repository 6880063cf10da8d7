"""One typed settings object for every command: defaults < config file < environment.

The config file is TOML or YAML (path from `--config` or `NEWSDEDUP_CONFIG`); environment
variables are `NEWSDEDUP_<FIELD>` plus the conventional `REDIS_URL`. Unknown keys and bad
values are refused with a one-line `SettingsError` naming the key and the source.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SECRET_FIELDS = {"redis_url"}


class SettingsError(ValueError):
    """A configuration problem the user must fix (exit code 2)."""


class Settings(BaseSettings):
    """Every knob of the service. Field descriptions feed the README configuration table."""

    model_config = SettingsConfigDict(env_prefix="NEWSDEDUP_", extra="forbid", validate_default=True)

    # --- Redis and storage
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL", "NEWSDEDUP_REDIS_URL", "redis_url"),
        description="Redis to share (redis://, rediss://, unix://). Unset: an embedded Redis under data_dir.",
    )
    data_dir: Path = Field(
        Path(".newsdedup"),
        validation_alias=AliasChoices("NEWSDEDUP_DATA", "NEWSDEDUP_DATA_DIR", "data_dir"),
        description="Where the embedded Redis keeps its data (AOF) between runs.",
    )
    key_prefix: str = Field("newsdedup:", description="Prefix of every Redis key.")
    redis_timeout: float = Field(5.0, gt=0, description="Seconds for Redis connect and socket timeouts.")
    redis_retries: int = Field(5, ge=0, description="Retries with exponential backoff on a lost Redis connection.")

    # --- document queue
    queue_max_deliveries: int = Field(5, ge=1, description="Deliveries before an entry goes to the dead-letter stream.")
    queue_reclaim_idle: float = Field(
        60.0, gt=0, description="Seconds an entry may stay un-acked before another consumer reclaims it."
    )
    queue_trim_above: int = Field(
        100_000, ge=0, description="Trim entries every group has acked once the stream is longer (0: never)."
    )
    consumer_group: str = Field("default", description="Consumer group of `newsdedup consume`.")

    # --- dedup
    dedup_threshold: float = Field(0.55, gt=0, lt=1, description="Estimated Jaccard at which texts are duplicates.")
    dedup_num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations.")
    dedup_window_days: float = Field(30.0, gt=0, description="How long indexed documents stay matchable.")
    boilerplate_min_pages: int = Field(3, ge=2, description="A block seen on this many pages of a site is boilerplate.")

    # --- crawling
    user_agent: str = Field(
        "newsdedup/0.1 (+{contact_url})", description="User-Agent; {contact_url} is substituted."
    )
    contact_url: str = Field("https://github.com/newsdedup/newsdedup", description="Where site owners can reach you.")
    concurrent_requests: int = Field(16, ge=1, description="Scrapy CONCURRENT_REQUESTS.")
    concurrent_per_domain: int = Field(4, ge=1, description="Scrapy CONCURRENT_REQUESTS_PER_DOMAIN.")
    download_timeout: float = Field(20.0, gt=0, description="Seconds before a request is abandoned.")
    download_maxsize: int = Field(10 * 1024 * 1024, ge=1024, description="Bytes; larger responses are refused.")
    download_warnsize: int = Field(2 * 1024 * 1024, ge=1024, description="Bytes; larger responses are logged.")
    autothrottle: bool = Field(True, description="Scrapy AutoThrottle on/off.")
    obey_robots: bool = Field(True, description="Obey robots.txt.")
    seen_ttl_days: float = Field(30.0, gt=0, description="How long a fetched article URL is not fetched again.")
    sites_dirs: list[Path] = Field(default_factory=list, description="Extra folders of site YAML files.")
    site_origins: dict[str, str] = Field(
        default_factory=dict, description="Point a site at another origin (mirror/staging): {site: origin}."
    )

    # --- scheduling and operations
    schedule_interval: float = Field(1800.0, gt=0, description="Seconds between discovery runs when a site sets none.")
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port (0: off).")
    log_format: Literal["text", "json"] = Field("text", description="Log lines as text or JSON.")
    log_level: str = Field("INFO", description="Python log level.")
    health_max_miss_rate: float = Field(
        0.2, gt=0, le=1, description="A site is unhealthy when a rule (title, body, published) or the generic "
        "fallback fires on more than this share of its pages in the last 24 h."
    )
    health_min_pages: int = Field(5, ge=1, description="Pages in the last 24 h before a site's health is judged.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (explicit overrides and the config file, merged by load_settings) sits below env.
        return (env_settings, init_settings)

    def masked(self) -> dict[str, Any]:
        """Effective settings as JSON-able values, secrets masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in SECRET_FIELDS and value:
                value = mask_url(str(value))
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, list):
                value = [str(v) for v in value]
            out[name] = value
        return out


def mask_url(url: str) -> str:
    """Hide the password of a URL (redis://user:secret@host -> redis://user:***@host)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def read_config_file(path: Path) -> dict[str, Any]:
    """A TOML or YAML mapping; its top level may be a `[newsdedup]` table."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"config file {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            data = yaml.safe_load(raw) or {}
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SettingsError(f"config file {path}: cannot parse: {first}") from None
    if isinstance(data, dict) and isinstance(data.get("newsdedup"), dict) and len(data) == 1:
        data = data["newsdedup"]
    if not isinstance(data, dict):
        raise SettingsError(f"config file {path}: expected a mapping of settings")
    return data


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; `config` (or $NEWSDEDUP_CONFIG) names the config file."""
    path = config or os.environ.get("NEWSDEDUP_CONFIG")
    values: dict[str, Any] = {}
    source = "defaults/environment"
    if path:
        values.update(read_config_file(Path(path)))
        source = f"config file {path} or environment"
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        raise SettingsError(f"bad setting {where!r} ({source}): {err.get('msg', 'invalid')}") from None


def settings_table_markdown() -> str:
    """The README configuration table, generated from the model so it cannot drift."""
    rows = ["| setting | default | environment | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        env = f"`NEWSDEDUP_{name.upper()}`"
        if name == "redis_url":
            env = "`REDIS_URL` or `NEWSDEDUP_REDIS_URL`"
        elif name == "data_dir":
            env = "`NEWSDEDUP_DATA` or `NEWSDEDUP_DATA_DIR`"
        rows.append(f"| `{name}` | `{default!s}` | {env} | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - documentation helper
    print(settings_table_markdown())
