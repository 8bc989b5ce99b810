"""AWS Lambda entry point: the adapter from lambda_adapter, built once per execution environment.

With SnapStart on, Lambda calls the hooks registered here through AWS's ``snapshot-restore-py``
registry: before the snapshot (prime every lazy path) and after each restore (re-seed, refresh
the JWKS, drop pooled connections). Without SnapStart nothing calls them.
"""

from __future__ import annotations

import gc

# The cyclic garbage collector runs dozens of times while the imports below and the app's
# build create their objects, none of which is garbage: about a tenth of a cold start here
# (bench/RESULTS.md). It is off until the adapter is built, then everything built so far is
# moved out of its reach for good (gc.freeze: later collections skip it) and it runs as
# usual (Python docs, "gc.freeze"). The benchmark's apps, ours and the peer, do the same.
gc.disable()

import os
from typing import Any

from snapshot_restore_py import register_after_restore, register_before_snapshot

from currency_api.lambda_adapter import build_adapter
from currency_api.logs import configure_logging
from currency_api.settings import Settings

_settings = Settings.from_env()
configure_logging(_settings.log_level)
adapter = build_adapter(_settings, on_lambda=bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")))
gc.freeze()
gc.enable()


def before_snapshot() -> None:
    """SnapStart hook: see :meth:`LambdaAdapter.before_snapshot`."""
    adapter.before_snapshot()


def after_restore() -> None:
    """SnapStart hook: see :meth:`LambdaAdapter.after_restore`."""
    adapter.after_restore()


register_before_snapshot(before_snapshot)
register_after_restore(after_restore)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer an API Gateway (HTTP API v2.0 or REST API v1.0) or ALB event.

    Any other event (a scheduled warm-up ping, say) is acknowledged without touching the app:
    ``{"statusCode": 204}`` is returned so an invoker sees it was ignored, not failed.
    """
    return adapter(event, context)
