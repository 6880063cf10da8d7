"""Errors the command line maps to exit codes (kept apart from cli.py so `python -m
newsdedup.cli` and the console script share one class)."""


class UsageError(ValueError):
    """Bad arguments or input detected by a command (exit 2)."""
