"""Fixtures for reliability tests: a fault-injecting proxy in front of moto, clients that
count their attempts, the app served by uvicorn on a loopback port, and dynalite."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import uvicorn
from botocore.config import Config

from currency_api import local
from currency_api.app import create_app
from currency_api.store import CurrencyStore
from tests.ports import free_port
from tests.reliability.proxy import FaultProxy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ROOT = Path(__file__).resolve().parents[2]
#: Where `make install` (mk/rel.mk) puts dynalite.
DYNALITE = ROOT / "tools" / "dynalite" / "node_modules" / ".bin" / "dynalite"


@pytest.fixture
def proxy(emulator: local.Emulator) -> Iterator[FaultProxy]:
    server = FaultProxy(emulator.endpoint).start()
    yield server
    server.stop()


class Attempts:
    """Counts the HTTP attempts a boto3 client makes, per operation (botocore's
    ``before-send`` event fires once per attempt, retries included). It only observes."""

    def __init__(self, client: Any) -> None:
        self.by_operation: Counter[str] = Counter()
        client.meta.events.register("before-send.dynamodb", self._count)

    def _count(self, *, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        name = target.decode() if isinstance(target, bytes) else str(target)
        self.by_operation[name.rpartition(".")[2]] += 1


ClientFactory = Callable[..., "tuple[DynamoDBClient, Attempts]"]


@pytest.fixture
def make_client() -> ClientFactory:
    """A DynamoDB client for ``endpoint`` with the production CLIENT_CONFIG or ``config``."""
    from currency_api.store import CLIENT_CONFIG

    def build(endpoint: str, config: Config = CLIENT_CONFIG) -> tuple[DynamoDBClient, Attempts]:
        client = boto3.client(
            "dynamodb", region_name=local.REGION, endpoint_url=endpoint, config=config
        )
        return client, Attempts(client)

    return build


class LiveServer:
    """An ASGI app served by uvicorn in a thread on 127.0.0.1 (a real socket and HTTP)."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""
        self.port = 0

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        sock = self.server.servers[0].sockets[0]
        self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


#: dynalite keeps tables CREATING for 500 ms by default; boto3's waiter then polls every 20 s.
_INSTANT_TABLES = ("--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")


@pytest.fixture(scope="session")
def dynalite() -> Iterator[str]:
    """dynalite (npm), a DynamoDB emulator with per-key locks for conditional puts
    (docs/reliability.md). Its endpoint URL.

    `make install` and `make test` install it (mk/rel.mk); missing, the tests using it fail,
    never skip, so a broken installation cannot pass as green.
    """
    node = shutil.which("node")
    if node is None or not DYNALITE.exists():
        pytest.fail("dynalite is not installed: run `make install` (mk/rel.mk)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [str(DYNALITE), "--host", "127.0.0.1", "--port", str(port), *_INSTANT_TABLES],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("dynalite did not start") from None
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    port: int,
    method: str,
    path: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    *,
    chunked: bool = False,
) -> RawResponse:
    """One request over a socket with exactly these bytes: the path is sent as given (no
    normalisation of ``..`` or percent escapes), headers may repeat, the body may be chunked
    (no Content-Length)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in headers or []:
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        elif body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if chunked:
            data = body or b""
            for start in range(0, len(data), 1024):
                part = data[start : start + 1024]
                connection.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            connection.send(b"0\r\n\r\n")
        elif body is not None:
            connection.send(body)
        response = connection.getresponse()
        return RawResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def module_store(dynamodb: Any) -> Iterator[CurrencyStore]:
    """A table of the module's own, empty; a module that needs currencies overrides this."""
    store = CurrencyStore(dynamodb, f"currencies-{uuid.uuid4().hex[:12]}", "test-secret")
    store.ensure_table()
    yield store
    dynamodb.delete_table(TableName=store.table_name)


@pytest.fixture(scope="module")
def live(cognito: local.LocalCognito, module_store: CurrencyStore) -> Iterator[LiveServer]:
    """The app on uvicorn for the module, on :func:`module_store`."""
    settings = local.settings_for(
        cognito, table_name=module_store.table_name, cursor_secret="test-secret"
    )
    with LiveServer(create_app(settings, store=module_store)) as server:
        yield server


@pytest.fixture(scope="module")
def auth(admin: dict[str, str]) -> tuple[str, str]:
    """The admin token as a raw header line's name and value."""
    return ("Authorization", admin["Authorization"])
