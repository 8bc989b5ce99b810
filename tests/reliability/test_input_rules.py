"""Inputs held to what they claim to be, over real HTTP (uvicorn on a loopback port): ``limit``
is ASCII digits, a cursor is exactly what the API issued (Lambda: test_event_bounds.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.problems import assert_problem
from tests.reliability.conftest import LiveServer, RawResponse, raw_request

CODES = ("EUR", "USD", "CHF")


@pytest.fixture(scope="module")
def module_store(dynamodb: Any) -> Iterator[CurrencyStore]:
    store = CurrencyStore(dynamodb, f"currencies-{uuid.uuid4().hex[:12]}", "test-secret")
    store.ensure_table()
    for number, code in enumerate(CODES):
        store.create(euro(code=code, numericCode=f"{900 + number}"), "seed")
    yield store
    dynamodb.delete_table(TableName=store.table_name)


def assert_400_naming(response: RawResponse, name: str) -> None:
    assert name in assert_problem(response, 400)["detail"]


NOT_DIGITS = ["+5", "%205", "5%20", "5_0", "%D9%A5", "%EF%BC%95", "0x5", "5.0", "%2B5", "1e1"]


@pytest.mark.parametrize("limit", NOT_DIGITS)
def test_limit_that_is_not_ascii_digits_is_a_400_naming_limit(
    live: LiveServer, auth: tuple[str, str], limit: str
) -> None:
    response = raw_request(live.port, "GET", f"/currencies?limit={limit}", [auth])
    assert_400_naming(response, "query parameter 'limit'")


@pytest.mark.parametrize("limit", ["1", "05", "100"])
def test_limit_in_ascii_digits_is_served(
    live: LiveServer, auth: tuple[str, str], limit: str
) -> None:
    response = raw_request(live.port, "GET", f"/currencies?limit={limit}", [auth])
    assert response.status == 200, response.body
    assert len(response.json()["items"]) == min(int(limit), len(CODES))


def first_cursor(port: int, auth: tuple[str, str]) -> str:
    page = raw_request(port, "GET", "/currencies?limit=1", [auth]).json()
    cursor: str = page["nextCursor"]
    assert cursor
    return cursor


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "=", "==", "A", "AAAA", "\t"])
def test_a_valid_cursor_with_trailing_characters_is_a_400(
    live: LiveServer, auth: tuple[str, str], suffix: str
) -> None:
    cursor = first_cursor(live.port, auth)
    path = f"/currencies?limit=1&cursor={quote(cursor + suffix, safe='')}"
    response = raw_request(live.port, "GET", path, [auth])
    assert response.status == 400, response.body
    assert response.headers["content-type"] == "application/problem+json"


def test_a_cursor_with_another_last_character_of_the_same_bytes_is_a_400(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    cursor = first_cursor(live.port, auth)
    # When the last base64 character carries unused bits, several characters decode to the
    # same bytes: only the one the API issued is its cursor.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = []
    for other in alphabet.replace(cursor[-1], ""):
        path = f"/currencies?limit=1&cursor={cursor[:-1]}{other}"
        if raw_request(live.port, "GET", path, [auth]).status == 200:
            accepted.append(other)
    assert accepted == []
    assert raw_request(live.port, "GET", f"/currencies?cursor={cursor}", [auth]).status == 200


def test_walking_the_cursors_still_returns_every_currency_once(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    seen: list[str] = []
    path = "/currencies?limit=1"
    for _ in range(len(CODES) + 2):
        page = raw_request(live.port, "GET", path, [auth]).json()
        seen += [item["code"] for item in page["items"]]
        if page["nextCursor"] is None:
            break
        path = f"/currencies?limit=1&cursor={page['nextCursor']}"
    assert sorted(seen) == sorted(CODES)
