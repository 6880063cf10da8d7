"""Log setup for every command: text (default) or one JSON object per line (`log_format = json`).

JSON lines are for log shippers (Loki, ELK, CloudWatch): fixed keys `ts`, `level`, `logger`,
`msg`, plus any `extra={...}` fields a caller passes (e.g. the health warning's `site`,
`field`, `example_url`) and `exc` with the traceback. The level is DEBUG with `-v`, else
`log_level` when it was set explicitly (config file or environment), else WARNING, so
commands stay quiet by default.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record; never raises on odd `extra` values (they become strings)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def setup_logging(verbose: bool = False, config: str | None = None) -> None:
    """Configure the root logger from the settings (bad settings: text/WARNING; the command reports them)."""
    from docqueue.settings import SettingsError, load_settings

    fmt, level = "text", logging.WARNING
    try:
        settings = load_settings(config)
        fmt = settings.log_format
        if "log_level" in settings.model_fields_set:
            level = logging.getLevelName(settings.log_level.upper())
            level = level if isinstance(level, int) else logging.WARNING
    except SettingsError:
        pass
    if verbose:
        level = logging.DEBUG
    root = logging.getLogger()
    if any(not getattr(h, "_newsdedup", False) for h in root.handlers):
        return  # like logging.basicConfig: someone (a host app, pytest) already owns logging
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler._newsdedup = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
