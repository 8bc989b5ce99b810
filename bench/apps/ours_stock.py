"""Ours with Connexion's own per-request classes: the overrides of issue 12 switched off.

Builds the same adapter as bench/apps/ours.py while ``connexion_extensions`` hands create_app
Connexion's stock ``AsyncApp`` and default middleware list, so the warm table shows what the
handler plan (OnceAsyncOperation), OnceRequestValidationOperation, the Swagger UI skip, the
security layer that also records the route, and leaving out the lifespan layer buy together.
Token verification, the validators (fastjsonschema's acceptance included) and our own layers
are the same in both. (Connexion's stock chain parses the JSON body again for the handler, from
the bytes as sent: fine for timing, not a behaviour we ship.)
"""

from __future__ import annotations

import time
from typing import Any

from connexion import AsyncApp
from connexion.middleware.main import ConnexionMiddleware

from bench.memory_store import EURO, MemoryStore
from currency_api import connexion_extensions
from currency_api.lambda_adapter import build_adapter
from currency_api.settings import Settings
from currency_api.store import create_client

IMPORTED_AT = time.perf_counter()

settings = Settings.from_env()
client = create_client(settings.region)
store = MemoryStore(client, settings.table_name, settings.cursor_secret, [EURO])
_STOCK = {
    "CurrencyAsyncApp": AsyncApp,
    "middlewares": lambda **_: list(ConnexionMiddleware.default_middlewares),
}
_saved = {name: getattr(connexion_extensions, name) for name in _STOCK}
for name, value in _STOCK.items():
    setattr(connexion_extensions, name, value)
try:
    adapter = build_adapter(settings, on_lambda=False, store=store, dynamodb_client=client)
finally:
    for name, value in _saved.items():
        setattr(connexion_extensions, name, value)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return adapter(event, context)
