"""Helpers shared by sub-commands: settings from --config, the Redis client, the queue."""

from __future__ import annotations

import argparse

import redis

from docqueue.redis_conn import connect
from docqueue.settings import Settings, load_settings
from docqueue.stream import DocumentQueue


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def queue_from(settings: Settings) -> tuple[redis.Redis, DocumentQueue]:
    client = connect(settings)
    return client, DocumentQueue.from_settings(client, settings)
