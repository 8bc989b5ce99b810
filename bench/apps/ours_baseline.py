"""Ours as before issue 6: every lever in bench/apps/levers.py off."""

from __future__ import annotations

import time
from typing import Any

from bench.apps.levers import LEVERS, build

IMPORTED_AT = time.perf_counter()

store, adapter = build(*LEVERS)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return adapter(event, context)
