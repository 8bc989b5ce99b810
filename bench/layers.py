"""Where one warm GET spends its time, layer by layer, in ours and in the peer.

A deterministic profile (cProfile) of warm ``GET /currencies/EUR`` invocations through each
app's Lambda handler (the apps bench/warm.py built, in the same process) gives each layer's
inclusive time; a layer's own time is its inclusive time minus that of the layer it calls.
cProfile inflates many small calls more than few large ones, so the shares are approximate:
they are scaled to the median wall time the warm benchmark measured without the profiler.

Layers: adapter (Lambda event to ASGI and back: our event screening + Mangum), middlewares
(every ASGI layer that is not one of the others), routing (finding the operation), security
(the bearer token and the grant), validation (parameters and body against the spec; Pydantic
in the peer), response (calling the handler with its arguments and sending its result),
handler (the operation's own code, store excluded) and store (the memory store's ``get``).
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, Final

from bench.common import LambdaContext, get_event
from bench.memory_store import MemoryStore

LAYERS: Final = (
    "adapter",
    "middlewares",
    "routing",
    "security",
    "validation",
    "response",
    "handler",
    "store",
)

Key = tuple[str, int, str]


def _key(function: Callable[..., Any]) -> Key:
    code = getattr(function, "__code__", None)
    if code is None:  # a bound or wrapped method
        code = function.__func__.__code__  # type: ignore[attr-defined]
    return (code.co_filename, code.co_firstlineno, code.co_name)


def _profile(module: ModuleType, token: str, count: int) -> dict[Key, float]:
    """Inclusive seconds per function over ``count`` GETs."""
    event, context = get_event(token), LambdaContext()
    for _ in range(50):
        module.handler(event, context)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(count):
        module.handler(event, context)
    profile.disable()
    stats: Any = pstats.Stats(profile)  # .stats: {(file, line, name): (..., cumtime, ...)}
    return {key: value[3] for key, value in stats.stats.items()}


def _ours_chain(module: ModuleType) -> list[tuple[str, Key]]:
    """(layer, function) from the Lambda adapter inwards, found by walking the live app."""
    from connexion.middleware.abstract import RoutedMiddleware
    from connexion.middleware.main import ConnexionMiddleware
    from connexion.middleware.request_validation import RequestValidationMiddleware
    from connexion.middleware.routing import RoutingMiddleware
    from connexion.middleware.security import SecurityMiddleware
    from connexion.middleware.swagger_ui import SwaggerUIMiddleware

    from currency_api.lambda_adapter import LambdaAdapter

    adapter = module.adapter
    chain = [("adapter", _key(LambdaAdapter.__call__))]
    middleware: Any = adapter.app.middleware
    chain.append(("middlewares", _key(ConnexionMiddleware.__call__)))
    layer_of = {
        SwaggerUIMiddleware: "routing",
        RoutingMiddleware: "routing",
        SecurityMiddleware: "security",
        RequestValidationMiddleware: "validation",
    }
    current: Any = middleware.app  # the outermost layer, once the stack is built
    while current is not None:
        layer = next(
            (name for cls, name in layer_of.items() if isinstance(current, cls)), "middlewares"
        )
        if isinstance(current, RoutedMiddleware):
            operations = next(iter(current.apis.values()))[0].operations
            operation = operations["handlers.currencies.getCurrency"]
            if _is_last(current):
                chain.append(("response", _key(type(operation).__call__)))
                break
            if not isinstance(operation, RoutedMiddleware):  # else a pass-through to the next
                chain.append((layer, _key(type(operation).__call__)))
        else:
            chain.append((layer, _key(type(current).__call__)))
        current = getattr(current, "app", None)
    from handlers import currencies

    chain.append(("handler", _key(currencies.get_currency)))
    chain.append(("store", _key(MemoryStore.get)))
    return chain


def _is_last(middleware: Any) -> bool:
    """The innermost app (Connexion's AsyncASGIApp): its operations call the handlers."""
    from connexion.apps.asynchronous import AsyncASGIApp

    return isinstance(middleware, AsyncASGIApp)


def _own_times(
    chain: Sequence[tuple[str, Key]], inclusive: Mapping[Key, float]
) -> dict[str, float]:
    """Seconds per layer: each link's inclusive time minus the next link's."""
    times = dict.fromkeys(LAYERS, 0.0)
    present = [(layer, key) for layer, key in chain if key in inclusive]
    for (layer, key), following in zip(present, [*present[1:], None], strict=True):
        inner = inclusive[following[1]] if following is not None else 0.0
        times[layer] += max(0.0, inclusive[key] - inner)
    return times


def _peer_times(module: ModuleType, inclusive: Mapping[Key, float]) -> dict[str, float]:
    from fastapi import FastAPI
    from fastapi.dependencies.utils import solve_dependencies
    from fastapi.security import HTTPBearer
    from mangum import Mangum
    from starlette.routing import Router

    caller = module.Reader.__metadata__[0].dependency
    # FastAPI's nested "app" closures of one route, outermost first: the route's app, its
    # exception wrapper (which sends the response), the request handler (arguments, call).
    *_, sending, _request_handler = sorted(
        (
            value
            for key, value in inclusive.items()
            if key[0].endswith("fastapi/routing.py") and key[2] == "app"
        ),
        reverse=True,
    )
    solve = inclusive[_key(solve_dependencies)]
    endpoint = inclusive[_key(module.get_currency)]
    store = inclusive[_key(MemoryStore.get)]
    security = inclusive[_key(caller)] + inclusive.get(_key(HTTPBearer.__call__), 0.0)
    return {
        "adapter": inclusive[_key(Mangum.__call__)] - inclusive[_key(FastAPI.__call__)],
        "middlewares": inclusive[_key(FastAPI.__call__)] - inclusive[_key(Router.__call__)],
        "routing": inclusive[_key(Router.__call__)] - sending,
        "security": security,
        "validation": solve - security,
        "response": sending - solve - endpoint,
        "handler": endpoint - store,
        "store": store,
    }


def measure(
    modules: Mapping[str, ModuleType], token: str, count: int = 1000
) -> dict[str, dict[str, float]]:
    """Share (0..1) of each layer in a profiled warm GET, for "ours" and "peer"."""
    shares: dict[str, dict[str, float]] = {}
    for app in ("ours", "peer"):
        inclusive = _profile(modules[app], token, count)
        if app == "ours":
            times = _own_times(_ours_chain(modules[app]), inclusive)
        else:
            times = _peer_times(modules[app], inclusive)
        total = sum(times.values())
        shares[app] = {layer: seconds / total for layer, seconds in times.items()}
    return shares


def section(shares: Mapping[str, Mapping[str, float]], medians: Mapping[str, float]) -> list[str]:
    """The RESULTS.md table: microseconds per layer (share x the measured median wall)."""
    lines = [
        "### One warm GET, layer by layer (microseconds: profile shares x the measured median)",
        "",
        "| layer | ours | peer | ours - peer |",
        "|---|---|---|---|",
    ]
    for layer in LAYERS:
        ours = shares["ours"][layer] * medians["ours"]
        peer = shares["peer"][layer] * medians["peer"]
        lines.append(f"| {layer} | {ours:.0f} | {peer:.0f} | {ours - peer:+.0f} |")
    lines.append(
        f"| total (median wall) | {medians['ours']:.0f} | {medians['peer']:.0f} "
        f"| {medians['ours'] - medians['peer']:+.0f} |"
    )
    return lines
