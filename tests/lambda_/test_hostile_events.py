"""Odd and hostile API Gateway events through the Lambda handler: a 4xx problem+json result,
never an exception (which API Gateway would turn into a bare 500)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2, rest_api_v1
from tests.problems import assert_problem

CONTEXT = LambdaContext()
Event = dict[str, Any]


def _problem(result: dict[str, Any], status: int) -> dict[str, Any]:
    return assert_problem(result, status, nosniff=True)


def _without_http(event: Event) -> Event:
    del event["requestContext"]["http"]
    return event


def _null_request_context(event: Event) -> Event:
    event["requestContext"] = None
    return event


def _bad_base64(event: Event) -> Event:
    event["body"] = "!!!not base64!!!"
    return event


def _bad_base64_without_length(event: Event) -> Event:
    del event["headers"]["content-length"]
    return _bad_base64(event)


def _numeric_body(event: Event) -> Event:
    event["body"] = 12
    return event


def _list_headers(event: Event) -> Event:
    event["headers"] = [["authorization", "Bearer x"]]
    return event


@pytest.mark.parametrize(
    "spoil",
    [
        _without_http,
        _null_request_context,
        _bad_base64,
        _bad_base64_without_length,
        _numeric_body,
        _list_headers,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_malformed_v2_event_is_a_400_problem(
    handler: Handler, admin: dict[str, str], spoil: Callable[[Event], Event]
) -> None:
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro(), base64_body=True)
    _problem(handler(spoil(event), CONTEXT), 400)


def test_a_v1_event_without_http_method_is_a_400_problem(
    handler: Handler, admin: dict[str, str]
) -> None:
    event = rest_api_v1("GET", "/currencies/EUR", headers=admin)
    event["httpMethod"] = None
    _problem(handler(event, CONTEXT), 400)


def test_an_event_without_headers_is_answered(handler: Handler) -> None:
    event = http_api_v2("GET", "/health")
    del event["headers"]
    assert handler(event, CONTEXT)["statusCode"] == 200
    anonymous = http_api_v2("GET", "/currencies")
    anonymous["headers"] = None
    _problem(handler(anonymous, CONTEXT), 401)


def test_a_null_body_on_a_write_is_a_400_problem(handler: Handler, admin: dict[str, str]) -> None:
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro())
    event["body"] = None
    del event["headers"]["content-length"]
    _problem(handler(event, CONTEXT), 400)


def test_an_oversized_body_is_a_413_problem(handler: Handler, admin: dict[str, str]) -> None:
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro(name="N" * 20_000))
    _problem(handler(event, CONTEXT), 413)


def test_an_invalid_utf8_body_is_a_400_problem(
    handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    raw = json.dumps(euro()).encode().replace(b"Euro", b"Eur\xff")
    event = http_api_v2("POST", "/currencies", headers=admin, body=raw, base64_body=True)
    _problem(handler(event, CONTEXT), 400)
    assert store.list(5).items == []


def test_repeated_authorization_headers_joined_by_the_gateway_are_a_401(
    handler: Handler, admin: dict[str, str]
) -> None:
    # API Gateway (payload 2.0) joins repeated headers with commas.
    joined = {"Authorization": f"{admin['Authorization']},Bearer other"}
    result = handler(http_api_v2("GET", "/currencies", headers=joined), CONTEXT)
    _problem(result, 401)


def test_an_encoded_slash_in_the_raw_path_is_a_400_problem(
    handler: Handler, admin: dict[str, str]
) -> None:
    result = handler(http_api_v2("GET", "/currencies/%2F", headers=admin), CONTEXT)
    _problem(result, 400)


@pytest.mark.parametrize("header", ["If-None-Match", "If-Match"])
def test_an_entity_tag_with_a_final_newline_is_a_400_problem(
    handler: Handler, admin: dict[str, str], header: str
) -> None:
    # HTTP servers refuse a newline in a field value; an event can still carry one, and
    # Python's "$" matches before a final newline: the spec's pattern says "(?!\n)".
    value = '"abc"\n'  # a well-formed list but for the newline
    method = "GET" if header == "If-None-Match" else "PATCH"
    event = http_api_v2(
        method,
        "/currencies/EUR",
        headers={**admin, header: value, "Content-Type": "application/merge-patch+json"},
        body={"symbol": "E"} if method == "PATCH" else None,
    )
    problem = _problem(handler(event, CONTEXT), 400)
    assert problem["errors"][0]["parameter"] == header


def test_client_forwarded_port_joined_by_the_gateway_is_answered(handler: Handler) -> None:
    event = http_api_v2("GET", "/health", headers={"x-forwarded-port": "443,80"})
    assert handler(event, CONTEXT)["statusCode"] == 200


def _odd_host(event: Event) -> Event:
    event["headers"]["host"] = "a:b:c"
    return event


def _null_identity(event: Event) -> Event:
    event["requestContext"]["identity"] = None
    return event


def _no_source_ip(event: Event) -> Event:
    del event["requestContext"]["http"]["sourceIp"]
    return event


def _numeric_raw_query(event: Event) -> Event:
    event["rawQueryString"] = 7
    return event


def _numeric_cookies(event: Event) -> Event:
    event["cookies"] = [1, 2]
    return event


def _v2_fields_with_version_one(event: Event) -> Event:
    event["version"] = "1.0"
    return event


@pytest.mark.parametrize(
    "make_event",
    [
        lambda: _odd_host(http_api_v2("GET", "/health")),
        lambda: _null_identity(rest_api_v1("GET", "/health")),
        lambda: _no_source_ip(http_api_v2("GET", "/health")),
        lambda: _numeric_raw_query(http_api_v2("GET", "/health")),
        lambda: _numeric_cookies(http_api_v2("GET", "/health")),
        lambda: _v2_fields_with_version_one(http_api_v2("GET", "/health")),
    ],
    ids=[
        "host-two-colons",
        "v1-null-identity",
        "v2-no-source-ip",
        "numeric-query",
        "numeric-cookies",
        "v2-fields-version-1.0",
    ],
)
def test_event_mangum_cannot_read_is_a_400_problem_not_a_failed_invocation(
    handler: Handler, make_event: Callable[[], Event]
) -> None:
    _problem(handler(make_event(), CONTEXT), 400)
