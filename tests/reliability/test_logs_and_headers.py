"""Structured logs and security headers: one JSON access line per request, no secret, body or
traceback in any log record, and the headers every answer must carry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.reliability.logcapture import JsonLines, json_logs

SENTINEL = "Body-Sentinel-7f3a"


@pytest.fixture
def logs() -> Iterator[JsonLines]:
    with json_logs() as lines:
        yield lines


def _subject(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature[:-6]}AAAAAA"


def test_no_token_authorization_header_body_or_traceback_reaches_the_logs(
    client: TestClient,
    logs: JsonLines,
    admin_token: str,
    admin: dict[str, str],
    dynamodb: Any,
    store: CurrencyStore,
) -> None:
    tampered = _tampered(admin_token)
    garbage = "not.a.jwt-Secretish-Value"
    dynamodb.put_item(TableName=store.table_name, Item={"code": {"S": "BAD"}})  # corrupt data
    json_headers = {**admin, "Content-Type": "application/json"}
    calls: list[tuple[str, str, dict[str, str], Any, int]] = [
        ("POST", "/currencies", json_headers, euro(name=SENTINEL), 201),
        (
            "PATCH",
            "/currencies/EUR",
            {**admin, "Content-Type": "application/merge-patch+json"},
            {"symbol": SENTINEL[:10]},
            200,
        ),
        ("POST", "/currencies", json_headers, euro(name=SENTINEL * 10), 400),  # too long
        ("POST", "/currencies", json_headers, {**euro(), SENTINEL: 1}, 400),  # unknown member
        ("POST", "/currencies", json_headers, euro(name=SENTINEL * 1000), 413),
        ("GET", "/currencies/EUR", {"Authorization": f"Bearer {tampered}"}, None, 401),
        ("GET", "/currencies/EUR", {"Authorization": f"Bearer {garbage}"}, None, 401),
        ("GET", "/currencies/EUR", {"Authorization": f"Basic {garbage}"}, None, 401),
        ("GET", "/currencies/BAD", admin, None, 500),  # a bug path: the stored item is corrupt
        ("GET", "/nowhere", admin, None, 404),
    ]
    for method, path, headers, body, status in calls:
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == status, (method, path, response.text)

    text = logs.text
    for secret in (admin_token, tampered, garbage, SENTINEL, "Bearer", "Basic"):
        assert secret not in text
    assert "Traceback" not in text
    assert 'File "' not in text
    errors = [e for e in logs.entries() if e["level"] == "ERROR"]
    assert [e["message"].split(" at ")[0] for e in errors] == ["unexpected error KeyError"]
    assert len(logs.access()) == len(calls)


def test_each_request_has_one_access_line_with_route_status_latency_and_subject(
    client: TestClient, logs: JsonLines, admin_token: str, admin: dict[str, str]
) -> None:
    created = client.post("/currencies", json=euro(), headers=admin)
    missing = client.get("/currencies/XXX", headers=admin)
    anonymous = client.get("/currencies")
    health = client.get("/health")
    wrong_method = client.post("/currencies/EUR", json=euro(), headers=admin)
    nowhere = client.get("/nowhere", headers=admin)
    assert (wrong_method.status_code, nowhere.status_code) == (405, 404)

    lines = logs.access()
    assert [(e["method"], e["route"], e["status"]) for e in lines] == [
        ("POST", "/currencies", 201),
        ("GET", "/currencies/{code}", 404),
        ("GET", "/currencies", 401),
        ("GET", "/health", 200),
        ("POST", "/currencies/{code}", 405),  # the path matched; no operation takes POST
        ("GET", None, 404),  # no spec path matches
    ]
    subject = _subject(admin_token)
    assert [e["subject"] for e in lines] == [subject, subject, None, None, None, None]
    responses = [created, missing, anonymous, health, wrong_method, nowhere]
    assert [e["request_id"] for e in lines] == [r.headers["x-request-id"] for r in responses]
    assert len({e["request_id"] for e in lines}) == 6
    for entry in lines:
        assert isinstance(entry["latency_ms"], float)
        assert entry["latency_ms"] >= 0
        assert entry["level"] == "INFO"
        assert entry["time"].endswith("Z")


def test_a_client_error_is_logged_once_in_the_access_line_at_info(
    client: TestClient, logs: JsonLines, admin: dict[str, str], reader: dict[str, str]
) -> None:
    answers = [
        client.get("/currencies"),  # 401
        client.post("/currencies", json=euro(), headers=reader),  # 403
        client.get("/currencies/eur", headers=admin),  # 400
        client.get("/nowhere"),  # 404
        client.delete("/health"),  # 405
        client.post("/currencies", content=b"x", headers={**admin, "Content-Type": "text/plain"}),
    ]
    statuses = [answer.status_code for answer in answers]
    assert all(400 <= status < 500 for status in statuses), statuses
    entries = logs.entries()
    assert [e["status"] for e in logs.access()] == statuses
    assert all(e["level"] == "INFO" for e in logs.access())
    assert [e for e in entries if e["level"] in ("WARNING", "ERROR")] == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/health", {}, 200),
        ("GET", "/currencies", {}, 401),
        ("GET", "/nowhere", {}, 404),
        ("DELETE", "/health", {}, 405),
        ("GET", "/ui/", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        (
            "POST",
            "/currencies",
            {"content": b"x" * 20_000, "headers": {"Content-Type": "application/json"}},
            413,
        ),
    ],
)
def test_every_answer_carries_nosniff(
    client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = client.request(method, path, **kwargs)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/currencies", {}, 200),
        ("GET", "/currencies/XXX", {}, 404),
        ("POST", "/currencies", {"json": euro()}, 201),
        (
            "POST",
            "/currencies",
            {"content": b"x" * 20_000, "headers": {"Content-Type": "application/json"}},
            413,
        ),
        ("GET", "/currencies?limit=0", {}, 400),
        ("GET", "/nowhere", {}, 404),
    ],
)
def test_answers_to_authenticated_requests_are_not_stored(
    client: TestClient,
    admin: dict[str, str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    extra = kwargs.pop("headers", {})
    response = client.request(method, path, headers={**admin, **extra}, **kwargs)
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"
    refused = client.request(method, path, headers={"Authorization": "Bearer x", **extra}, **kwargs)
    assert refused.headers["cache-control"] == "no-store"
