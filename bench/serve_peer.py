"""The FastAPI peer (bench/apps/peer.py) on uvicorn: a CurrencyStore on the same DynamoDB as
ours, store calls in Starlette's thread pool, the same uvicorn options as ours, and uvicorn's
own access log (one line per request, as ours writes its JSON access line).

Usage: ``python -m bench.serve_peer PORT`` (127.0.0.1 only).
"""

from __future__ import annotations

import sys

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from bench.apps import peer
from currency_api.server import uvicorn_options
from currency_api.store import CurrencyStore

if __name__ == "__main__":
    app = peer.serve_with(
        CurrencyStore(peer.client, peer.settings.table_name, peer.settings.cursor_secret)
    )
    options = {
        **uvicorn_options(host="127.0.0.1", port=int(sys.argv[1])),
        "log_config": LOGGING_CONFIG,
        "access_log": True,
    }
    uvicorn.run(app, **options)
