"""Request smuggling and malformed framing on the server path: uvicorn started with the very
options `currency-api serve` uses (currency_api.server), bytes written to a raw socket."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from currency_api import local
from currency_api.app import create_app
from currency_api.server import uvicorn_options
from currency_api.store import CurrencyStore
from tests.conftest import euro

SWISS_FRANC = euro(code="CHF", name="Swiss Franc", numericCode="756")


class ServeServer:
    """The app on uvicorn with `serve`'s options (port 0, in a thread, lifespan off)."""

    def __init__(self, app: Any) -> None:
        options = {**uvicorn_options(host="127.0.0.1", port=0), "lifespan": "off"}
        self.server = uvicorn.Server(uvicorn.Config(app, **options))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0

    def __enter__(self) -> ServeServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.port = int(self.server.servers[0].sockets[0].getsockname()[1])
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def table(module_store: CurrencyStore) -> CurrencyStore:
    """The module's own empty table (tests/reliability/conftest.py)."""
    return module_store


@pytest.fixture(scope="module")
def serve(cognito: local.LocalCognito, table: CurrencyStore) -> Iterator[ServeServer]:
    settings = local.settings_for(cognito, table_name=table.table_name, cursor_secret="test-secret")
    with ServeServer(create_app(settings, store=table)) as server:
        yield server


@pytest.fixture
def franc(table: CurrencyStore) -> Iterator[None]:
    table.create(SWISS_FRANC, "seed")
    yield
    with contextlib.suppress(Exception):  # already gone: the test failed and says so
        table.delete("CHF")


def exchange(port: int, data: bytes, wait: float = 3.0) -> tuple[bytes, bool]:
    """Write ``data`` on one connection; read until the server closes it or ``wait`` passes.
    Returns what was read and whether the server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65_536)
            except TimeoutError:
                return received, False
            if not chunk:
                return received, True
            received += chunk
        return received, False


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The HTTP/1.1 responses in ``raw`` (each framed by Content-Length)."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        found.append((status, headers, rest[:length]))
        raw = rest[length:]
    return found


def assert_refused(raw: bytes, closed: bool, status: int = 400) -> dict[str, Any]:
    """Exactly one answer, a problem+json with our headers, and the connection closed."""
    answers = responses(raw)
    assert len(answers) == 1, raw
    got, headers, body = answers[0]
    assert got == status, raw
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-content-type-options"] == "nosniff"
    assert closed, "the server kept the connection open"
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == status
    return problem


def test_content_length_with_transfer_encoding_then_delete_deletes_nothing(
    serve: ServeServer, franc: None, table: CurrencyStore, admin_token: str
) -> None:
    # The sequence: a proxy that frames by Content-Length sees one POST whose body is
    # "0\r\n" plus junk; a server that frames by Transfer-Encoding sees a second request.
    body = json.dumps(euro(code="QSM")).encode()
    smuggled = (
        b"DELETE /currencies/CHF HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + admin_token.encode() + b"\r\n\r\n"
    )
    data = (
        b"POST /currencies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + admin_token.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
        + smuggled
    )
    raw, closed = exchange(serve.port, data)
    assert_refused(raw, closed)
    assert table.get("CHF")["name"] == "Swiss Franc"
    with pytest.raises(Exception, match="QSM"):
        table.get("QSM")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("obsolete line folding", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n"),
        ("bare LF line ends", b"GET /health HTTP/1.1\nHost: x\n\n"),
        ("a bare LF in the head", b"GET /health HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n"),
        ("two Content-Lengths", b"POST /currencies HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"),
        ("space before the colon", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n"),
        ("a NUL in a value", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_malformed_framing_is_a_400_problem_and_the_connection_closes(
    serve: ServeServer, name: str, data: bytes
) -> None:
    if name == "two Content-Lengths":
        data += b"Content-Length: 2\r\n\r\nab"
    raw, closed = exchange(serve.port, data + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_refused(raw, closed)


def test_transfer_encoding_other_than_chunked_is_refused_and_deletes_nothing(
    serve: ServeServer, franc: None, table: CurrencyStore, admin_token: str
) -> None:
    data = (
        b"DELETE /currencies/CHF HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + admin_token.encode() + b"\r\n"
        b"Transfer-Encoding: xchunked\r\n\r\n"
    )
    raw, closed = exchange(serve.port, data)
    status = responses(raw)[0][0]
    assert status in (400, 501), raw
    assert_refused(raw, closed, status)
    assert table.get("CHF")["name"] == "Swiss Franc"


def test_a_request_head_over_64_kib_is_a_431_problem(serve: ServeServer) -> None:
    data = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n"
    raw, closed = exchange(serve.port, data)
    assert_refused(raw, closed, 431)


def test_a_well_formed_pipeline_is_still_served_in_order(serve: ServeServer) -> None:
    one = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    raw, _closed = exchange(serve.port, one + one, wait=1.0)
    assert [status for status, _, _ in responses(raw)] == [200, 200]
