"""Helpers shared by sub-commands: settings from --config, the Redis client, the queue."""

from __future__ import annotations

import argparse
from typing import Any

import redis

from docqueue.redis_conn import connect
from docqueue.settings import Settings, load_settings
from docqueue.stream import DocumentQueue
from newsdedup.errors import UsageError


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def queue_from(settings: Settings) -> tuple[redis.Redis, DocumentQueue]:
    client = connect(settings)
    return client, DocumentQueue.from_settings(client, settings)


def configured_sites(settings: Settings, names: list[str] | None) -> list[Any]:
    """The named sites (all when none), moved to their `site_origins`; unknown names -> exit 2."""
    from crawler.runner import sites_for

    try:
        return sites_for(settings, names or [])
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
