"""The Edge is the last resort: nothing escapes it (Connexion's ServerErrorMiddleware is left
out of the stack), and an escaped exception is one 500 problem and one error line without a
traceback; the Gate's header checks give the same answers whether or not a name repeats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from currency_api import bounds, edge
from currency_api.app import load_spec
from tests.reliability.logcapture import JsonLines, json_logs


@pytest.fixture
def logs() -> Iterator[JsonLines]:
    with json_logs() as lines:
        yield lines


def _call(app: Any, headers: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/currencies/EUR",
        "raw_path": b"/currencies/EUR",
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _edge(inner: Any) -> edge.Edge:
    return edge.Edge(inner, document=load_spec(), values={})


def test_an_exception_before_the_answer_is_a_500_problem_and_one_error_line(
    logs: JsonLines,
) -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise KeyError("secret-value-7f3a")

    sent = _call(_edge(failing))
    start, body = sent
    assert start["status"] == 500
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-request-id"]
    assert json.loads(body["body"])["status"] == 500
    assert "secret-value-7f3a" not in logs.text
    assert "Traceback" not in logs.text
    errors = [e for e in logs.entries() if e["level"] == "ERROR"]
    assert [e["message"].split(" at ")[0] for e in errors] == ["unhandled KeyError"]
    (access,) = logs.access()
    assert access["status"] == 500


def test_an_exception_after_the_answer_started_sends_nothing_more_and_logs_a_500(
    logs: JsonLines,
) -> None:
    async def failing_late(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("late")

    sent = _call(_edge(failing_late))
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert sent[0]["status"] == 200
    (access,) = logs.access()
    assert access["status"] == 500


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([(b"if-match", b"x" * 1025)], 400),
        ([(b"if-match", b"x" * 600), (b"if-match", b"y" * 500)], 400),  # 1,102 joined
        ([(b"if-match", b"x" * 600), (b"if-match", b"y" * 422)], None),  # 1,024 joined
        ([(b"content-type", b"application/json;" + b"p" * 300)], 415),
        ([(b"content-type", b"application/json;" + b"p" * 150)] * 2, 415),
        ([(b"transfer-encoding", b"chunked"), (b"content-length", b"3")], 400),
        ([(b"transfer-encoding", b"gzip")], 501),
        ([(b"transfer-encoding", b"chunked"), (b"transfer-encoding", b"gzip")], 501),
        ([(b"transfer-encoding", b"chunked")], None),
        ([(b"x-many", b"1")] * 17, 431),
        ([(f"x-{i}".encode(), b"1") for i in range(101)], 431),
        ([(b"accept", b"application/json"), (b"accept", b"text/plain")], None),
        ([(b"if-match", b'"abc"'), (b"content-type", b"application/json")], None),
    ],
)
def test_header_checks_answer_alike_with_and_without_repeated_names(
    headers: list[tuple[bytes, bytes]], status: int | None
) -> None:
    """The fast path (no name on two lines) refuses exactly what the general one does."""
    checks = bounds.InputBounds(None, bounds.bounds_from_spec(load_spec()))  # type: ignore[arg-type]
    refusal = checks._headers(headers)
    assert (refusal[0] if refusal else None) == status
    if len(headers) < bounds.MAX_FIELDS - 1:
        # Another name on two lines sends the same fields through the general path.
        padded = [*headers, (b"x-pad", b"1"), (b"x-pad", b"2")]
        assert checks._headers(padded) == refusal


def _with_mutable_headers(
    raw: list[tuple[bytes, bytes]], status: int, authenticated: bool, allowed: str | None
) -> list[tuple[bytes, bytes]]:
    """What the Edge did to an answer's headers through Starlette's MutableHeaders (before
    issue 12's single pass): the reference the single pass must equal."""
    from starlette.datastructures import MutableHeaders

    message: Message = {"type": "http.response.start", "status": status, "headers": raw}
    headers = MutableHeaders(scope=message)
    headers.setdefault("x-content-type-options", "nosniff")
    if status in (204, 304) and "content-type" in headers:
        del headers["content-type"]
    if authenticated and "cache-control" not in headers:
        headers["cache-control"] = "no-store"
    if status == 405 and allowed:
        headers["allow"] = allowed
    headers["X-Request-Id"] = "req-1"
    return list(message["headers"])


@pytest.mark.parametrize("status", [200, 204, 304, 405, 500])
@pytest.mark.parametrize("authenticated", [False, True])
@pytest.mark.parametrize(
    "raw",
    [
        [],
        [(b"content-type", b"application/json"), (b"content-length", b"2")],
        [(b"etag", b'"1"'), (b"cache-control", b"max-age=60"), (b"content-type", b"text/plain")],
        [
            (b"x-content-type-options", b"other"),
            (b"content-type", b"a/b"),
            (b"content-type", b"c/d"),
        ],
        [(b"x-request-id", b"app-set"), (b"vary", b"origin"), (b"x-request-id", b"again")],
        [(b"allow", b"PUT"), (b"x-request-id", b"app"), (b"allow", b"GET")],
    ],
)
def test_the_answer_headers_in_one_pass_equal_starlettes_mutable_headers(
    raw: list[tuple[bytes, bytes]], status: int, authenticated: bool
) -> None:
    app = _edge(None)
    scope: Scope = {"type": "http", "path": "/currencies/EUR", "root_path": ""}
    found = app.allow.match_scope(scope)
    assert found is not None  # the spec's /currencies/{code}
    allowed = found.allow
    single = app._answer_headers(
        list(raw), status, authenticated, "req-1", allowed if status == 405 else None
    )
    assert single == _with_mutable_headers(list(raw), status, authenticated, allowed)


def test_an_allow_value_lists_methods_in_one_order_whatever_the_set_order() -> None:
    from currency_api.middleware import ordered_allow

    assert ordered_allow("HEAD, GET") == "GET, HEAD"
    assert ordered_allow("DELETE,PATCH, GET,HEAD ,PUT") == "GET, HEAD, PUT, PATCH, DELETE"
    assert ordered_allow("OPTIONS, BREW, GET") == "GET, OPTIONS, BREW"  # unknown ones last
