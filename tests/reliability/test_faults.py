"""DynamoDB faults injected on botocore's real request path (a proxy on 127.0.0.1 in front of
moto, or a closed port): bounded attempts, 503 problem+json with Retry-After, no write
half-applied, and the next request after recovery succeeds."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from starlette.testclient import TestClient

from currency_api import store as store_module
from currency_api.app import create_app
from currency_api.settings import Settings
from currency_api.store import CurrencyStore, etag_of
from tests.conftest import euro
from tests.reliability.conftest import ClientFactory
from tests.reliability.proxy import FaultProxy

ATTEMPTS = store_module.TOTAL_MAX_ATTEMPTS
PATCH = {"Content-Type": "application/merge-patch+json"}

#: (proxy fault, error code) for faults DynamoDB reports in an answer.
ANSWERED_FAULTS = {
    "throttling": dict(status=400, error_type="ThrottlingException"),
    "provisioned-throughput-exceeded": dict(
        status=400, error_type="ProvisionedThroughputExceededException"
    ),
    "internal-server-error": dict(status=500, error_type="InternalServerError"),
    "service-unavailable": dict(status=503, error_type="ServiceUnavailable"),
}

#: A client for tests that wait for timeouts: same retry mode and attempts, short timeouts.
FAST_TIMEOUTS = Config(
    retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
    connect_timeout=0.3,
    read_timeout=0.3,
)


def _app_client(settings: Settings, dynamodb: Any, time_budget: float = 8.0) -> TestClient:
    store = CurrencyStore(dynamodb, settings.table_name, "test-secret", time_budget=time_budget)
    return TestClient(create_app(settings, store=store), raise_server_exceptions=False)


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["status"] == 503
    assert "127.0.0.1" not in response.text
    assert "Exception" not in response.text


@pytest.fixture
def seeded(store: CurrencyStore) -> dict[str, Any]:
    """EUR stored at version 1, written straight to moto (not through the proxy)."""
    return store.create(euro(symbol="€"), "seed")


@pytest.mark.parametrize("fault", sorted(ANSWERED_FAULTS))
def test_write_fault_gives_503_after_bounded_attempts_and_applies_nothing(
    fault: str,
    settings: Settings,
    store: CurrencyStore,
    seeded: dict[str, Any],
    proxy: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(proxy.url)
    client = _app_client(settings, dynamodb)
    proxy.inject("status", {"PutItem"}, **ANSWERED_FAULTS[fault])  # type: ignore[arg-type]

    response = client.patch(
        "/currencies/EUR",
        json={"name": "Changed"},
        headers={**admin, **PATCH, "If-Match": etag_of(seeded)},
    )

    _assert_unavailable(response)
    assert attempts.by_operation["PutItem"] == ATTEMPTS
    assert proxy.received["PutItem"] == ATTEMPTS
    assert store.get("EUR") == seeded  # nothing half-applied

    proxy.heal()
    recovered = client.patch(
        "/currencies/EUR",
        json={"name": "Changed"},
        headers={**admin, **PATCH, "If-Match": etag_of(seeded)},
    )
    assert recovered.status_code == 200, recovered.text
    assert store.get("EUR")["version"] == 2


@pytest.mark.parametrize("fault", ["throttling", "internal-server-error"])
def test_read_fault_gives_503_after_bounded_attempts_then_recovers(
    fault: str,
    settings: Settings,
    seeded: dict[str, Any],
    proxy: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(proxy.url)
    client = _app_client(settings, dynamodb)
    proxy.inject("status", {"GetItem", "Scan"}, **ANSWERED_FAULTS[fault])  # type: ignore[arg-type]

    _assert_unavailable(client.get("/currencies/EUR", headers=admin))
    _assert_unavailable(client.get("/currencies", headers=admin))
    assert attempts.by_operation == {"GetItem": ATTEMPTS, "Scan": ATTEMPTS}

    proxy.heal()
    assert client.get("/currencies/EUR", headers=admin).status_code == 200
    assert client.get("/currencies", headers=admin).json()["items"] == [seeded]


def test_create_fault_leaves_no_item_and_a_retry_creates_it(
    settings: Settings,
    store: CurrencyStore,
    proxy: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(proxy.url)
    client = _app_client(settings, dynamodb)
    # A create is one TransactWriteItems (the currency and its numeric code's reservation).
    proxy.inject("status", {"TransactWriteItems"}, status=500, error_type="InternalServerError")

    _assert_unavailable(client.post("/currencies", json=euro(), headers=admin))
    assert attempts.by_operation["TransactWriteItems"] == ATTEMPTS
    assert store.list(10).items == []

    proxy.heal()
    assert client.post("/currencies", json=euro(), headers=admin).status_code == 201


def test_connection_reset_gives_503_after_bounded_attempts(
    settings: Settings,
    store: CurrencyStore,
    seeded: dict[str, Any],
    proxy: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(proxy.url)
    client = _app_client(settings, dynamodb)
    proxy.inject("reset", {"PutItem"})

    _assert_unavailable(client.put("/currencies/EUR", json=euro(name="New"), headers=admin))
    assert attempts.by_operation["PutItem"] == ATTEMPTS
    assert store.get("EUR") == seeded

    proxy.heal()
    assert client.put("/currencies/EUR", json=euro(name="New"), headers=admin).status_code == 200


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_gives_503_after_bounded_attempts(
    settings: Settings, make_client: ClientFactory, admin: dict[str, str]
) -> None:
    dynamodb, attempts = make_client(f"http://127.0.0.1:{_closed_port()}")
    client = _app_client(settings, dynamodb)

    _assert_unavailable(client.delete("/currencies/EUR", headers=admin))
    _assert_unavailable(client.post("/currencies", json=euro(), headers=admin))

    # The delete stops at its first call (the read of what it deletes); each call is tried
    # the bounded number of times, no more.
    assert attempts.by_operation == {"GetItem": ATTEMPTS, "TransactWriteItems": ATTEMPTS}


@pytest.fixture
def released(proxy: FaultProxy) -> Iterator[FaultProxy]:
    yield proxy
    proxy.heal()


def test_read_timeout_gives_503_within_the_bound_then_recovers(
    settings: Settings,
    seeded: dict[str, Any],
    released: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(released.url, FAST_TIMEOUTS)
    client = _app_client(settings, dynamodb, time_budget=5.0)
    released.inject("hang", {"GetItem"})

    started = time.monotonic()
    _assert_unavailable(client.get("/currencies/EUR", headers=admin))
    elapsed = time.monotonic() - started

    assert attempts.by_operation["GetItem"] == ATTEMPTS
    assert elapsed >= ATTEMPTS * 0.3
    assert elapsed < store_module.worst_case_seconds(ATTEMPTS, 0.3, 0.3, budget=5.0)
    released.heal()
    assert client.get("/currencies/EUR", headers=admin).json() == seeded


def test_slow_endpoint_within_the_timeouts_still_answers(
    settings: Settings,
    seeded: dict[str, Any],
    proxy: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(proxy.url, FAST_TIMEOUTS)
    client = _app_client(settings, dynamodb)
    proxy.inject("slow", delay=0.15)

    response = client.patch("/currencies/EUR", json={"symbol": "E"}, headers={**admin, **PATCH})

    assert response.status_code == 200, response.text
    assert attempts.by_operation == {"GetItem": 1, "PutItem": 1}


def test_slow_endpoint_past_the_time_budget_gives_503_and_sends_no_write(
    settings: Settings,
    store: CurrencyStore,
    seeded: dict[str, Any],
    proxy: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(proxy.url, FAST_TIMEOUTS)
    client = _app_client(settings, dynamodb, time_budget=0.1)
    proxy.inject("slow", delay=0.2)

    response = client.patch("/currencies/EUR", json={"symbol": "E"}, headers={**admin, **PATCH})

    _assert_unavailable(response)
    assert attempts.by_operation["GetItem"] == 1
    assert proxy.received["PutItem"] == 0  # refused before it was sent
    assert store.get("EUR") == seeded


def test_create_whose_response_was_lost_is_still_a_201_and_one_item(
    settings: Settings,
    store: CurrencyStore,
    released: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    """The write reaches DynamoDB, the answer does not: botocore retries, the retry's
    condition fails on our own item. That is success, not a 409."""
    dynamodb, attempts = make_client(released.url, FAST_TIMEOUTS)
    client = _app_client(settings, dynamodb)
    released.inject("lose_response", {"TransactWriteItems"}, times=1)

    response = client.post("/currencies", json=euro(), headers=admin)

    assert attempts.by_operation["TransactWriteItems"] >= 2
    assert response.status_code == 201, response.text
    assert [c["code"] for c in store.list(10).items] == ["EUR"]
    assert store.get("EUR")["version"] == 1


def test_conditional_patch_whose_response_was_lost_is_a_200_applied_once(
    settings: Settings,
    store: CurrencyStore,
    seeded: dict[str, Any],
    released: FaultProxy,
    make_client: ClientFactory,
    admin: dict[str, str],
) -> None:
    dynamodb, attempts = make_client(released.url, FAST_TIMEOUTS)
    client = _app_client(settings, dynamodb)
    released.inject("lose_response", {"PutItem"}, times=1)

    response = client.patch(
        "/currencies/EUR",
        json={"name": "Once"},
        headers={**admin, **PATCH, "If-Match": etag_of(seeded)},
    )

    assert attempts.by_operation["PutItem"] >= 2
    assert response.status_code == 200, response.text
    assert store.get("EUR")["version"] == 2
    assert response.json() == store.get("EUR")


def test_seed_batch_whose_response_was_lost_counts_as_written(
    store: CurrencyStore, released: FaultProxy, make_client: ClientFactory
) -> None:
    """botocore retries the lost batch; the emulator (no idempotency tokens) refuses the
    retry's conditions on the very items the batch wrote: that is success, not a failure."""
    from currency_api.iso4217 import read_list_one
    from currency_api.seed import seed

    dynamodb, attempts = make_client(released.url, FAST_TIMEOUTS)
    released.inject("lose_response", {"TransactWriteItems"}, times=1)

    summary = seed(dynamodb, store.table_name, read_list_one())

    assert attempts.by_operation["TransactWriteItems"] >= 2
    assert summary.created == 178
    assert (
        len(store.list(100).items) + len(store.list(100, store.list(100).next_cursor).items) == 178
    )
