"""What handlers need at run time, built once by create_app and found through the ASGI scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, ParamSpec, TypeVar

from connexion.context import scope
from starlette.concurrency import run_in_threadpool

from currency_api.lambda_events import path_prefix
from currency_api.settings import Settings
from currency_api.store import CurrencyStore

SCOPE_KEY: Final = "currency_api.services"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Services:
    """The store and settings, plus how to run blocking calls.

    ``offload_blocking`` runs boto3 calls in Starlette's thread pool so a server's event loop
    keeps serving; on Lambda (one request at a time) calls run inline, which is cheaper.
    """

    settings: Settings
    store: CurrencyStore
    offload_blocking: bool = True

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self.offload_blocking:
            return await run_in_threadpool(fn, *args, **kwargs)
        return fn(*args, **kwargs)


def public_path(path: str) -> str:
    """``path`` (``/currencies/EUR``) as the caller reaches it: on Lambda behind a named API
    Gateway stage, with the stage prefix the adapter took off (``/prod/currencies/EUR``).
    Always a path, never a URL with a host: a ``Host`` header is the caller's to choose."""
    prefix = path_prefix(scope.get("aws.event"))
    return path if prefix is None else f"{prefix}{path}"


def current() -> Services:
    """The Services of the app serving the current request."""
    services: Any = scope.get(SCOPE_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("create_app did not install the services")
    return services
