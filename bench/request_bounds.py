"""What an anonymous request can cost: ``GET /health`` with 6,000 query parameters, and the
served spec documents, against plain ``GET /health`` (issue 14).

The app is built as `currency-api serve` builds it (embedded moto emulators, uvicorn with the
options of currency_api.server when they exist) and served on 127.0.0.1 in this process; one
keep-alive client sends the kinds of request interleaved, round after round, so drift and
noise hit every kind alike. Prints the median wall time of each kind and its ratio to
``/health``. Not a test: numbers for docs and the issue note.

    .venv/bin/python -m bench.request_bounds [--rounds 40] [--lambda]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import uvicorn

#: The request kinds: (label, path). The query has 6,000 parameters (79 KB in the issue).
KINDS: Final = [
    ("GET /health", "/health"),
    ("GET /health?6,000 parameters", "/health?" + "&".join(f"p{i}=1" for i in range(6_000))),
    ("GET /openapi.json", "/openapi.json"),
    ("GET /openapi.yaml", "/openapi.yaml"),
]


def build_app() -> tuple[Any, Callable[[], None]]:
    """The local app on a fresh embedded emulator, and how to stop the emulator."""
    from currency_api import local
    from currency_api.app import create_app
    from currency_api.store import CurrencyStore, create_client

    emulator = local.Emulator()
    endpoint = emulator.start()
    local.point_boto3_at(endpoint)
    import boto3

    cognito = local.provision_cognito(
        boto3.client("cognito-idp", region_name=local.REGION), endpoint
    )
    settings = local.settings_for(cognito)
    store = CurrencyStore(create_client(settings.region), settings.table_name, "bench")
    store.ensure_table()
    return create_app(settings, store=store), emulator.stop


def server_options() -> dict[str, Any]:
    try:
        from currency_api.server import uvicorn_options
    except ImportError:  # an older checkout: uvicorn's defaults
        return {"host": "127.0.0.1", "port": 0, "log_config": None, "access_log": False}
    return {**uvicorn_options(host="127.0.0.1", port=0)}


def measure(rounds: int) -> dict[str, list[float]]:
    app, stop_emulator = build_app()
    config = uvicorn.Config(app, **{**server_options(), "lifespan": "off", "log_level": "error"})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    times: dict[str, list[float]] = {label: [] for label, _ in KINDS}
    try:
        for round_number in range(rounds + 1):
            for label, path in KINDS:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                started = time.perf_counter()
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                connection.close()
                if round_number:  # the first round builds lazily what later rounds reuse
                    times[f"{label}"].append(elapsed)
                elif round_number == 0:
                    print(f"{label}: {response.status}")
    finally:
        server.should_exit = True
        thread.join(10)
        stop_emulator()
    return times


def measure_lambda(rounds: int) -> dict[str, list[float]]:
    """The same kinds as HTTP API v2.0 events through the Lambda adapter (no network)."""
    from currency_api import local
    from currency_api.lambda_adapter import build_adapter, priming_event
    from currency_api.store import CurrencyStore, create_client

    emulator = local.Emulator()
    endpoint = emulator.start()
    local.point_boto3_at(endpoint)
    import boto3

    cognito_client = boto3.client("cognito-idp", region_name=local.REGION)
    settings = local.settings_for(local.provision_cognito(cognito_client, endpoint))
    store = CurrencyStore(create_client(settings.region), settings.table_name, "bench")
    adapter = build_adapter(settings, on_lambda=False, store=store)
    context = type("Context", (), {"aws_request_id": "bench", "function_name": "bench"})()
    times: dict[str, list[float]] = {label: [] for label, _ in KINDS}
    try:
        for round_number in range(rounds + 1):
            for label, target in KINDS:
                path, _, query = target.partition("?")
                event = {**priming_event(path), "rawQueryString": query}
                started = time.perf_counter()
                result = adapter(event, context)
                elapsed = time.perf_counter() - started
                if round_number:
                    times[label].append(elapsed)
                else:
                    print(f"lambda {label}: {result['statusCode']}")
    finally:
        emulator.stop()
    return times


def report(times: dict[str, list[float]]) -> None:
    base = statistics.median(times["GET /health"])
    print(f"\n{'request':<32} {'median ms':>10} {'x /health':>10}")
    for label, samples in times.items():
        median = statistics.median(samples)
        print(f"{label:<32} {median * 1000:>10.2f} {median / base:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--lambda", dest="on_lambda", action="store_true", help="Lambda adapter")
    args = parser.parse_args()
    report(measure_lambda(args.rounds) if args.on_lambda else measure(args.rounds))


if __name__ == "__main__":
    main()
