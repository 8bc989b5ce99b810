"""Hostile input over real HTTP (uvicorn on a loopback port, bytes sent exactly as written):
every answer is a 4xx problem+json, never a 5xx, never a crash."""

from __future__ import annotations

import dataclasses
import json
import string
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from currency_api import local
from currency_api.app import create_app
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.problems import assert_problem as problem_of
from tests.reliability.conftest import LiveServer, RawResponse, raw_request

ALLOWED_ORIGIN = "https://app.example.com"
LIMIT = 16_384
JSON = ("Content-Type", "application/json")
MERGE_PATCH = ("Content-Type", "application/merge-patch+json")
#: The operations that take a body, with the media type each consumes.
BODY_OPERATIONS = [
    ("POST", "/currencies", JSON),
    ("PUT", "/currencies/EUR", JSON),
    ("PATCH", "/currencies/EUR", MERGE_PATCH),
]


@pytest.fixture(scope="module")
def live(cognito: local.LocalCognito, dynamodb: Any, admin: dict[str, str]) -> Iterator[LiveServer]:
    """One server for the module (CORS on, a table holding EUR): these tests change little."""
    table = f"currencies-{uuid.uuid4().hex[:12]}"
    store = CurrencyStore(dynamodb, table, "test-secret")
    store.ensure_table()
    store.create(euro(), "seed")
    settings = dataclasses.replace(
        local.settings_for(cognito, table_name=table, cursor_secret="test-secret"),
        cors_allow_origins=(ALLOWED_ORIGIN,),
    )
    with LiveServer(create_app(settings, store=store)) as server:
        yield server
    dynamodb.delete_table(TableName=table)


def assert_problem(response: RawResponse, status: int) -> dict[str, Any]:
    """A problem with the security headers and no echo of a large hostile value."""
    return problem_of(response, status, nosniff=True, max_bytes=1024)


def body_of(**changes: Any) -> bytes:
    return json.dumps(euro(**changes)).encode()


_CODES = ("Q" + a + b for a in string.ascii_uppercase for b in string.ascii_uppercase)


def new_code() -> str:
    """A code no other test in this module uses."""
    return next(_CODES)


# Bodies


@pytest.mark.parametrize(("method", "path", "content_type"), BODY_OPERATIONS)
def test_body_over_the_limit_is_413(
    live: LiveServer, auth: tuple[str, str], method: str, path: str, content_type: tuple[str, str]
) -> None:
    body = body_of(name="N" * LIMIT)
    assert_problem(raw_request(live.port, method, path, [auth, content_type], body), 413)


def test_chunked_body_over_the_limit_without_content_length_is_413(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    body = b" " * LIMIT + body_of()
    response = raw_request(live.port, "POST", "/currencies", [auth, JSON], body, chunked=True)
    assert_problem(response, 413)


def test_chunked_body_within_the_limit_is_validated_and_stored(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    code = new_code()
    body = body_of(code=code)
    response = raw_request(live.port, "POST", "/currencies", [auth, JSON], body, chunked=True)
    assert response.status == 201, response.body
    invalid = raw_request(live.port, "POST", "/currencies", [auth, JSON], b"{", chunked=True)
    assert_problem(invalid, 400)


@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_deeply_nested_json_is_400(live: LiveServer, auth: tuple[str, str], shape: str) -> None:
    # Both far past the parser's recursion limit, both within the body limit.
    if shape == "arrays":
        opened, closed = "[" * 5_000, "]" * 5_000
    else:
        opened, closed = '{"a":' * 2_500, "}" * 2_500
    body = f'{{"code":"EUR","name":{opened}1{closed}}}'.encode()
    assert len(body) <= LIMIT
    response = raw_request(live.port, "POST", "/currencies", [auth, JSON], body)
    assert_problem(response, 400)


def test_invalid_utf8_is_400(live: LiveServer, auth: tuple[str, str]) -> None:
    body = body_of(name="Euro").replace(b"Euro", b"Eur\xff\xfe")
    assert_problem(raw_request(live.port, "POST", "/currencies", [auth, JSON], body), 400)


@pytest.mark.parametrize(("method", "path", "content_type"), BODY_OPERATIONS)
def test_duplicate_member_names_are_400(
    live: LiveServer, auth: tuple[str, str], method: str, path: str, content_type: tuple[str, str]
) -> None:
    body = b'{"code":"EUR","name":"Euro","name":"Other","numericCode":"978","minorUnit":2}'
    if method == "PATCH":
        body = b'{"name":"Euro","name":"Other"}'
    problem = assert_problem(raw_request(live.port, method, path, [auth, content_type], body), 400)
    assert "'name' appears twice" in problem["detail"]


@pytest.mark.parametrize(
    ("method", "path", "content_type", "body"),
    [
        ("POST", "/currencies", JSON, {**euro(), "name": 123}),
        ("PUT", "/currencies/EUR", JSON, {**euro(), "numericCode": 978}),
        ("PATCH", "/currencies/EUR", MERGE_PATCH, {"symbol": 1}),
    ],
)
def test_a_number_where_a_string_is_expected_is_400(
    live: LiveServer,
    auth: tuple[str, str],
    method: str,
    path: str,
    content_type: tuple[str, str],
    body: dict[str, Any],
) -> None:
    raw = json.dumps(body).encode()
    assert_problem(raw_request(live.port, method, path, [auth, content_type], raw), 400)


@pytest.mark.parametrize(("method", "path", "content_type"), BODY_OPERATIONS)
def test_unknown_members_are_400_on_every_write(
    live: LiveServer, auth: tuple[str, str], method: str, path: str, content_type: tuple[str, str]
) -> None:
    body = {"name": "Euro", "isAdmin": True} if method == "PATCH" else {**euro(), "isAdmin": True}
    raw = json.dumps(body).encode()
    problem = assert_problem(raw_request(live.port, method, path, [auth, content_type], raw), 400)
    assert "isAdmin" in problem["detail"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_constants_are_400(
    live: LiveServer, auth: tuple[str, str], constant: str
) -> None:
    body = f'{{"minorUnit":{constant}}}'.encode()
    response = raw_request(live.port, "PATCH", "/currencies/EUR", [auth, MERGE_PATCH], body)
    problem = assert_problem(response, 400)
    assert problem["detail"] == (
        f"The request body holds {constant}, which JSON does not have (RFC 8259 section 6)."
    )


def test_an_integer_too_long_to_convert_is_400(live: LiveServer, auth: tuple[str, str]) -> None:
    body = ('{"minorUnit":' + "9" * 5_000 + "}").encode()
    response = raw_request(live.port, "PATCH", "/currencies/EUR", [auth, MERGE_PATCH], body)
    problem = assert_problem(response, 400)
    # Valid JSON (RFC 8259 sets no limit), refused for its length, and said so.
    most = sys.get_int_max_str_digits()  # 4300 unless PYTHONINTMAXSTRDIGITS says otherwise
    assert problem["detail"] == f"The request body holds an integer of more than {most} digits."


@pytest.mark.parametrize("body", [b"[]", b'"EUR"', b"null", b"{}"])
def test_a_body_that_is_not_a_currency_object_is_400(
    live: LiveServer, auth: tuple[str, str], body: bytes
) -> None:
    assert_problem(raw_request(live.port, "POST", "/currencies", [auth, JSON], body), 400)


# Content-Type


def test_charset_utf8_is_accepted(live: LiveServer, auth: tuple[str, str]) -> None:
    content_type = ("Content-Type", "application/json; charset=utf-8")
    body = body_of(code=new_code(), name="Złoty €")
    response = raw_request(live.port, "POST", "/currencies", [auth, content_type], body)
    assert response.status == 201, response.body
    assert response.json()["name"] == "Złoty €"


def test_another_charset_is_ignored_and_the_body_read_as_utf8(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    latin1 = ("Content-Type", "application/json; charset=latin-1")
    utf8_body = body_of(code=new_code(), name="Réal")
    accepted = raw_request(live.port, "POST", "/currencies", [auth, latin1], utf8_body)
    assert accepted.status == 201, accepted.body
    assert accepted.json()["name"] == "Réal"
    latin1_body = json.dumps(euro(code=new_code(), name="Réal"), ensure_ascii=False).encode(
        "latin-1"
    )
    assert_problem(raw_request(live.port, "POST", "/currencies", [auth, latin1], latin1_body), 400)


@pytest.mark.parametrize(
    "content_type",
    ["application/vnd.foo+json", "text/plain", "application/merge-patch+json", "application/xml"],
)
def test_a_media_type_the_operation_does_not_consume_is_415(
    live: LiveServer, auth: tuple[str, str], content_type: str
) -> None:
    headers = [auth, ("Content-Type", content_type)]
    assert_problem(raw_request(live.port, "POST", "/currencies", headers, body_of()), 415)


def test_a_body_without_content_type_is_415(live: LiveServer, auth: tuple[str, str]) -> None:
    assert_problem(raw_request(live.port, "POST", "/currencies", [auth], body_of()), 415)
    response = raw_request(live.port, "PUT", "/currencies/EUR", [auth], body_of(), chunked=True)
    assert_problem(response, 415)


def test_a_body_without_content_type_to_a_method_the_path_does_not_take_is_routings(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    # The method is wrong whatever the body: 405 with Allow (or 404 for no such path), not a
    # 415 that would send the caller to fix a header first.
    response = raw_request(live.port, "POST", "/currencies/EUR", [auth], body_of())
    assert_problem(response, 405)
    assert response.headers["Allow"] == "GET, HEAD, PUT, PATCH, DELETE"
    assert_problem(raw_request(live.port, "PUT", "/currencies", [auth], body_of()), 405)
    assert_problem(raw_request(live.port, "POST", "/nowhere", [auth], body_of()), 404)


# Paths and queries


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/currencies/%2F", 400),
        ("/currencies/EU%2fR", 400),
        ("/currencies/%00", 400),
        ("/currencies/..", 400),
        ("/currencies/../health", 404),
        ("/currencies/%FF", 400),
        ("/currencies/E%20R", 400),
        ("/currencies/" + "A" * 10_000, 400),
        ("/currencies/eur", 400),
        ("/currencies/EURO", 400),
        ("/nowhere", 404),
    ],
    ids=lambda value: str(value)[:24],
)
def test_odd_paths_are_4xx_problems(
    live: LiveServer, auth: tuple[str, str], path: str, status: int
) -> None:
    assert_problem(raw_request(live.port, "GET", path, [auth]), status)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=2&limit=3",
        "cursor=" + "A" * 200,
        "cursor=not%20a%20cursor",
        "cursor=eyJjIjoiRVVSIn0AAAAAAAAAAAAAAAAAAAAAAA",
        "page=2",
    ],
    ids=lambda value: value[:24],
)
def test_bad_query_parameters_are_400(live: LiveServer, auth: tuple[str, str], query: str) -> None:
    assert_problem(raw_request(live.port, "GET", f"/currencies?{query}", [auth]), 400)


# Headers


@pytest.mark.parametrize("size", [12_000, 64_000])
def test_a_huge_authorization_header_is_401(live: LiveServer, size: int) -> None:
    header = ("Authorization", "Bearer " + "a" * size)
    problem = raw_request(live.port, "GET", "/currencies", [header])
    assert_problem(problem, 401)
    assert 'error="invalid_token"' in problem.headers["www-authenticate"]


@pytest.mark.parametrize("second", ["Bearer not.a.jwt", "same"])
def test_several_authorization_headers_are_400_invalid_request(
    live: LiveServer, auth: tuple[str, str], second: str
) -> None:
    other = auth if second == "same" else ("Authorization", second)
    response = raw_request(live.port, "GET", "/currencies", [auth, other])
    assert_problem(response, 400)
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("value", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer  ", "token"])
def test_an_authorization_header_without_a_bearer_token_is_401(
    live: LiveServer, value: str
) -> None:
    response = raw_request(live.port, "GET", "/currencies", [("Authorization", value)])
    assert_problem(response, 401)


# CORS


def test_a_preflight_from_an_allowed_origin_succeeds_without_a_token(live: LiveServer) -> None:
    response = raw_request(
        live.port,
        "OPTIONS",
        "/currencies/EUR",
        [
            ("Origin", ALLOWED_ORIGIN),
            ("Access-Control-Request-Method", "PATCH"),
            ("Access-Control-Request-Headers", "authorization, content-type, if-match"),
        ],
    )
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "If-Match" in response.headers["access-control-allow-headers"]


def test_a_preflight_from_another_origin_is_a_problem_without_cors_headers(
    live: LiveServer,
) -> None:
    response = raw_request(
        live.port,
        "OPTIONS",
        "/currencies/EUR",
        [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "DELETE")],
    )
    assert_problem(response, 400)
    assert not [name for name in response.headers if name.lower().startswith("access-control")]


def test_a_request_from_another_origin_gets_no_cors_headers(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    response = raw_request(
        live.port, "GET", "/currencies/EUR", [auth, ("Origin", "https://evil.example")]
    )
    assert response.status == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control")]


def test_answers_to_an_allowed_origin_expose_the_headers_clients_need(
    live: LiveServer, auth: tuple[str, str]
) -> None:
    ok = raw_request(live.port, "GET", "/currencies/EUR", [auth, ("Origin", ALLOWED_ORIGIN)])
    assert ok.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = ok.headers["access-control-expose-headers"]
    assert "ETag" in exposed
    assert "X-Request-Id" in exposed
    too_large = raw_request(
        live.port,
        "POST",
        "/currencies",
        [auth, JSON, ("Origin", ALLOWED_ORIGIN)],
        body_of(name="N" * LIMIT),
    )
    assert_problem(too_large, 413)
    assert too_large.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
