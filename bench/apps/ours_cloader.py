"""Ours with only the LibYAML lever on (spec validation on, Connexion's validators)."""

from __future__ import annotations

import time
from typing import Any

from bench.apps.levers import build

IMPORTED_AT = time.perf_counter()

store, adapter = build("novalidate", "compiled")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return adapter(event, context)
