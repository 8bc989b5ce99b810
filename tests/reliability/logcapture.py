"""Capture every log record as production renders it (JsonFormatter), for log tests."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from currency_api.logs import JsonFormatter, quiet_loggers


class JsonLines:
    """Every record of every logger, rendered as production renders it (JsonFormatter)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line]

    def access(self) -> list[dict[str, Any]]:
        return [e for e in self.entries() if e["logger"] == "currency_api.access"]


@contextmanager
def json_logs() -> Iterator[JsonLines]:
    """The most verbose level the app allows (LOG_LEVEL=DEBUG), captured from the root."""
    lines = JsonLines()
    handler = logging.StreamHandler(lines.stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_loggers(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
