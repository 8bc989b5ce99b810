"""Concurrent writers over real HTTP: uvicorn on a loopback port, the app as deployed on a
server (boto3 calls in the thread pool). Conditional puts race on dynalite (per-key locks);
creates are transactions (the numeric code's reservation goes with the currency), which
dynalite 4.0.0 does not implement, so they race on moto served one request at a time
(currency_api.local.Emulator; see docs/reliability.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from currency_api import local
from currency_api.app import create_app
from currency_api.settings import Settings
from currency_api.store import CurrencyStore, _to_item, etag_of, now_rfc3339
from tests.conftest import euro
from tests.reliability.conftest import LiveServer

WRITERS = 32
PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def dynalite_store(dynalite: str) -> Iterator[CurrencyStore]:
    client: Any = boto3.client(
        "dynamodb",
        region_name=local.REGION,
        endpoint_url=dynalite,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 3},
            max_pool_connections=WRITERS * 2,
        ),
    )
    table = f"currencies-{uuid.uuid4().hex[:12]}"
    store = CurrencyStore(client, table, "test-secret")
    store.ensure_table()
    yield store
    client.delete_table(TableName=table)


@pytest.fixture
def server(settings: Settings, dynalite_store: CurrencyStore) -> Iterator[LiveServer]:
    app = create_app(settings, store=dynalite_store, offload_blocking=True)
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def moto_server(settings: Settings, store: CurrencyStore) -> Iterator[LiveServer]:
    app = create_app(settings, store=store, offload_blocking=True)
    with LiveServer(app) as live:
        yield live


def _put_version_1(store: CurrencyStore, **changes: Any) -> dict[str, Any]:
    """A stored EUR as a create leaves it, written with PutItem (dynalite has no
    TransactWriteItems, which the store's create uses)."""
    now = now_rfc3339()
    currency = {**euro(**changes), "version": 1, "createdAt": now, "updatedAt": now}
    currency |= {"createdBy": "seed", "updatedBy": "seed"}
    store._client.put_item(TableName=store.table_name, Item=_to_item(currency))
    return store.get(currency["code"])


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def _all_at_once(server: LiveServer, requests: list[dict[str, Any]]) -> list[int]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        responses = await asyncio.gather(*(client.request(**r) for r in requests))
    for response in responses:
        assert response.headers["content-type"] in ("application/json", "application/problem+json")
    return [response.status_code for response in responses]


def test_32_concurrent_patches_with_one_if_match_give_one_200_and_31_412(
    server: LiveServer, dynalite_store: CurrencyStore, admin: dict[str, str]
) -> None:
    created = _put_version_1(dynalite_store)
    headers = {**admin, **PATCH, "If-Match": etag_of(created)}
    requests = [
        {
            "method": "PATCH",
            "url": "/currencies/EUR",
            "json": {"name": f"writer {n}"},
            "headers": headers,
        }
        for n in range(WRITERS)
    ]

    statuses = Counter(_run(_all_at_once(server, requests)))

    assert statuses == {200: 1, 412: WRITERS - 1}
    assert dynalite_store.get("EUR")["version"] == 2


def test_32_concurrent_creates_of_one_code_give_one_201_and_31_409(
    moto_server: LiveServer, store: CurrencyStore, admin: dict[str, str]
) -> None:
    requests = [
        {
            "method": "POST",
            "url": "/currencies",
            "json": euro(name=f"creator {n}"),
            "headers": admin,
        }
        for n in range(WRITERS)
    ]

    statuses = Counter(_run(_all_at_once(moto_server, requests)))

    assert statuses == {201: 1, 409: WRITERS - 1}
    assert [c["code"] for c in store.list(10).items] == ["EUR"]
    assert store.get("EUR")["version"] == 1


def test_16_concurrent_creates_of_one_numeric_code_give_one_201_and_15_409(
    moto_server: LiveServer, store: CurrencyStore, admin: dict[str, str]
) -> None:
    codes = [f"Q{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(16)]
    requests = [
        {
            "method": "POST",
            "url": "/currencies",
            "json": euro(code=code, numericCode="978"),
            "headers": admin,
        }
        for code in codes
    ]

    statuses = Counter(_run(_all_at_once(moto_server, requests)))

    assert statuses == {201: 1, 409: 15}
    (winner,) = store.list(100).items
    assert winner["numericCode"] == "978"
    # Every loser was told who holds the code: a create of another code after the race too.
    late = httpx.post(
        f"{moto_server.url}/currencies", json=euro(code="QZZ", numericCode="978"), headers=admin
    )
    assert late.status_code == 409
    assert f"'{winner['code']}'" in late.json()["detail"]


async def _increment(client: httpx.AsyncClient, headers: dict[str, str], times: int) -> int:
    """Read, add one to the number in ``name``, write with If-Match; retry on 412."""
    conflicts = 0
    done = 0
    while done < times:
        read = await client.get("/currencies/EUR", headers=headers)
        assert read.status_code == 200, read.text
        value = int(read.json()["name"])
        written = await client.patch(
            "/currencies/EUR",
            json={"name": str(value + 1)},
            headers={**headers, **PATCH, "If-Match": read.headers["etag"]},
        )
        if written.status_code == 412:
            conflicts += 1
            continue
        assert written.status_code == 200, written.text
        done += 1
    return conflicts


def test_read_modify_write_clients_lose_no_update(
    server: LiveServer, dynalite_store: CurrencyStore, admin: dict[str, str]
) -> None:
    clients, increments = 16, 2
    _put_version_1(dynalite_store, name="0")

    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
            return await asyncio.gather(
                *(_increment(client, admin, increments) for _ in range(clients))
            )

    conflicts = _run(run())

    final = dynalite_store.get("EUR")
    assert final["name"] == str(clients * increments)
    assert final["version"] == 1 + clients * increments
    assert sum(conflicts) > 0  # the clients did race
