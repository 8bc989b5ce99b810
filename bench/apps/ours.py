"""Ours: currency_api's Lambda adapter (Connexion AsyncApp + Mangum), on the memory store.

Built at import from the environment, as the Lambda entry point builds it; only the store
differs (it answers from memory; the DynamoDB client is still created).
"""

from __future__ import annotations

import gc

# As currency_api/lambda_function.py: no collections while importing and building.
gc.disable()

import time
from typing import Any

from bench.memory_store import EURO, MemoryStore
from currency_api.lambda_adapter import build_adapter
from currency_api.settings import Settings
from currency_api.store import create_client

IMPORTED_AT = time.perf_counter()

settings = Settings.from_env()
client = create_client(settings.region)
store = MemoryStore(client, settings.table_name, settings.cursor_secret, [EURO])
adapter = build_adapter(settings, on_lambda=False, store=store, dynamodb_client=client)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return adapter(event, context)


# Built: as currency_api/lambda_function.py, what exists now is never collected, and the
# collector runs as usual from here on.
gc.freeze()
gc.enable()
