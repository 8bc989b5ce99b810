"""Bounded work per request over real HTTP: query strings, header lists, echoed values and
redirects are refused or answered before anything parses them (uvicorn on a loopback port)."""

from __future__ import annotations

import http.client
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from currency_api import local
from currency_api.app import create_app, load_spec
from currency_api.bounds import MAX_FIELD_LINES, MAX_FIELDS, bounds_from_spec
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.problems import assert_problem as problem_of
from tests.reliability.conftest import LiveServer, RawResponse, raw_request

BOUNDS = bounds_from_spec(load_spec())


@pytest.fixture(scope="module")
def live(cognito: local.LocalCognito, dynamodb: Any) -> Iterator[LiveServer]:
    table = f"currencies-{uuid.uuid4().hex[:12]}"
    store = CurrencyStore(dynamodb, table, "test-secret")
    store.ensure_table()
    store.create(euro(), "seed")
    settings = local.settings_for(cognito, table_name=table, cursor_secret="test-secret")
    with LiveServer(create_app(settings, store=store)) as server:
        yield server
    dynamodb.delete_table(TableName=table)


def assert_problem(response: RawResponse, status: int) -> dict[str, Any]:
    """A short problem (no echo of the hostile value) with the security headers."""
    return problem_of(response, status, nosniff=True, max_bytes=512)


def with_host(
    port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None = None
) -> RawResponse:
    """A request whose ``Host`` is the caller's choice (``raw_request`` sends its own)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in [("Host", "evil.example"), *headers]:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_the_bounds_follow_from_the_spec() -> None:
    # listCurrencies declares two query parameters (limit: maximum 100; cursor: maxLength 36).
    assert BOUNDS.max_query_parameters == 8
    assert 36 * 3 < BOUNDS.max_query_bytes <= 10_000
    assert BOUNDS.header_max_lengths == {"if-match": 1024, "if-none-match": 1024}


# Query strings


@pytest.mark.parametrize("path", ["/health", "/currencies", "/currencies/EUR"])
def test_6000_query_parameters_are_refused_without_a_token(live: LiveServer, path: str) -> None:
    # 6,000 parameters cannot fit the length bound: the length is checked first (414).
    query = "&".join(f"p{i}=1" for i in range(6_000))
    assert_problem(raw_request(live.port, "GET", f"{path}?{query}"), 414)
    short = "&".join(["p"] * 100)  # under the length bound, over the count
    problem = assert_problem(raw_request(live.port, "GET", f"{path}?{short}"), 400)
    assert "parameters" in problem["detail"]


def test_a_query_just_over_the_parameter_bound_is_400_and_at_the_bound_is_validated(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    most = BOUNDS.max_query_parameters
    over = "&".join(["limit=1"] * (most + 1))
    assert_problem(raw_request(live.port, "GET", f"/currencies?{over}", [auth]), 400)
    # At the bound the query reaches validation (which refuses the repeated limit).
    at = "&".join(["limit=1"] * most)
    problem = assert_problem(raw_request(live.port, "GET", f"/currencies?{at}", [auth]), 400)
    assert "limit" in problem["detail"]


def test_a_query_longer_than_the_bound_is_a_414_problem(live: LiveServer) -> None:
    query = "cursor=" + "A" * BOUNDS.max_query_bytes
    problem = assert_problem(raw_request(live.port, "GET", f"/currencies?{query}"), 414)
    assert problem["title"] == "URI Too Long"


def test_an_ordinary_query_is_served(live: LiveServer, auth: tuple[str, str]) -> None:
    response = raw_request(live.port, "GET", "/currencies?limit=5", [auth])
    assert response.status == 200, response.body


# Header lists


def test_2000_if_match_fields_are_a_431_problem(live: LiveServer, auth: tuple[str, str]) -> None:
    headers = [auth, ("Content-Type", "application/json")]
    headers += [("If-Match", f'"{i}"') for i in range(2_000)]
    response = raw_request(live.port, "PUT", "/currencies/EUR", headers, b'{"name":"X"}')
    assert_problem(response, 431)


def test_if_match_fields_within_the_line_bound_but_over_its_max_length_in_all_are_400(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    value = '"' + "a" * 200 + '"'
    headers = [auth, *[("If-Match", value)] * MAX_FIELD_LINES]
    problem = assert_problem(raw_request(live.port, "DELETE", "/currencies/EUR", headers), 400)
    assert "if-match" in problem["detail"].lower()


def test_two_if_match_fields_within_the_bounds_are_one_list(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    headers = [auth, ("If-None-Match", '"zz"'), ("If-None-Match", '"yy"')]
    assert raw_request(live.port, "GET", "/currencies/EUR", headers).status == 200


def test_more_header_fields_than_the_bound_are_a_431_problem(live: LiveServer) -> None:
    headers = [(f"X-Field-{i}", "1") for i in range(MAX_FIELDS + 1)]
    assert_problem(raw_request(live.port, "GET", "/health", headers), 431)


# Echoed values


def test_a_30_kb_content_type_is_a_short_415_and_no_log_record_echoes_it(
    live: LiveServer, auth: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    content_type = "application/" + "x" * 30_000
    with caplog.at_level(logging.DEBUG):
        response = raw_request(
            live.port, "POST", "/currencies", [auth, ("Content-Type", content_type)], b"{}"
        )
    assert_problem(response, 415)
    deadline = time.monotonic() + 10  # the server thread logs the access line after answering
    while not any(r.name == "currency_api.access" for r in caplog.records):
        assert time.monotonic() < deadline, "no access line was logged"
        time.sleep(0.01)
    longest = max(len(record.getMessage()) for record in caplog.records)
    assert longest < 1_000
    assert all("x" * 300 not in str(vars(record)) for record in caplog.records)


@pytest.mark.parametrize("length", [150, 250])
def test_an_unsupported_content_type_within_the_bound_is_echoed_at_most_capped(
    live: LiveServer, auth: tuple[str, str], caplog: pytest.LogCaptureFixture, length: int
) -> None:
    content_type = "text/" + "y" * length
    with caplog.at_level(logging.DEBUG):
        response = raw_request(
            live.port, "POST", "/currencies", [auth, ("Content-Type", content_type)], b"{}"
        )
    assert_problem(response, 415)
    assert all(len(record.getMessage()) < 600 for record in caplog.records)


# Redirects and the Host header


@pytest.mark.parametrize(
    "path", ["/currencies/", "/currencies/EUR/", "/health/", "/currencies//", "/openapi.json/"]
)
def test_a_trailing_slash_is_a_404_problem_naming_no_host(
    live: LiveServer, auth: tuple[str, str], path: str
) -> None:
    response = with_host(live.port, "GET", path, [auth])
    assert_problem(response, 404)
    assert "location" not in response.headers


@pytest.mark.parametrize("path", ["/ui", "/ui/", "/currencies", "/nowhere", "/ui/index.html"])
def test_no_answer_names_the_callers_host(
    live: LiveServer, auth: tuple[str, str], path: str
) -> None:
    response = with_host(live.port, "GET", path, [auth])
    assert response.status < 500
    assert b"evil.example" not in response.body
    assert "evil.example" not in str(response.headers)


def test_the_201_location_is_a_path_without_the_callers_host(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    headers = [auth, ("Content-Type", "application/json")]
    body = b'{"code":"QLO","name":"Location","numericCode":"997","minorUnit":2}'
    response = with_host(live.port, "POST", "/currencies", headers, body)
    assert response.status == 201, response.body
    assert response.headers["location"] == "/currencies/QLO"


def test_the_docs_state_the_bounds_the_spec_yields() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    assert f"{BOUNDS.max_query_parameters} query parameters and" in readme
    assert f"{BOUNDS.max_query_bytes:,} bytes of query string" in readme
    table = (root / "docs" / "hardening.md").read_text()
    assert f"| **{BOUNDS.max_query_parameters}** |" in table
    assert f"| **{BOUNDS.max_query_bytes:,} bytes** |" in table
