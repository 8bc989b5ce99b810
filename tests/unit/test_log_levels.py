"""Library loggers stay at WARNING whatever LOG_LEVEL says: they log payloads and values."""

from __future__ import annotations

import logging

import pytest

from currency_api.logs import configure_logging


@pytest.mark.parametrize("name", ["mangum.http", "botocore.endpoint", "connexion.operations"])
def test_library_loggers_stay_at_warning_even_at_debug(name: str) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("DEBUG")
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
