"""The local run as a newcomer does it: `currency-api serve`, then `currency-api token`.

One real server for the module (a subprocess on a free port with its own embedded moto),
tokens from the real `token` command run in the same folder, requests over real HTTP.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests import tokens
from tests.spec_operations import secured_operations

STARTUP_SECONDS = 90


def command() -> list[str]:
    """The installed `currency-api` script of this environment (or the module, if absent)."""
    script = Path(sys.executable).with_name("currency-api")
    if script.exists():
        return [str(script)]
    found = shutil.which("currency-api")
    return [found] if found else [sys.executable, "-m", "currency_api.cli"]


def clean_env() -> dict[str, str]:
    """The user's environment without the test session's emulator endpoints and credentials,
    so `serve` starts its own embedded emulators as it does on a newcomer's machine."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "COGNITO_")) and name != "TABLE_NAME"
    }


@dataclass
class LocalServer:
    workdir: Path
    env: dict[str, str]
    output: list[str]
    api: str
    swagger_ui: str
    spec: str

    @property
    def base(self) -> str:
        return self.api.removesuffix("/currencies")

    tokens: dict[tuple[str, ...], str] = field(default_factory=dict)

    def token(self, *args: str) -> str:
        """`currency-api token ARGS` run in the server's folder, as the printed hint says
        (once per ARGS for the module: the tokens last an hour)."""
        if args in self.tokens:
            return self.tokens[args]
        done = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [*command(), "token", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        self.tokens[args] = done.stdout.strip()
        return self.tokens[args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    workdir = tmp_path_factory.mktemp("local-run")
    env = clean_env()
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [*command(), "serve", "--port", str(free_port())],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    try:
        urls: dict[str, str] = {}
        deadline = time.monotonic() + STARTUP_SECONDS
        while "spec" not in urls or not any("Uvicorn running" in line for line in output):
            assert process.poll() is None, "".join(output)
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("serve did not start:\n" + "".join(output))
            output.append(line)
            match = re.match(r"\s+(API|Swagger UI|Spec)\s+(http://\S+)", line)
            if match:
                urls[match.group(1).lower().replace(" ", "_")] = match.group(2)
        yield LocalServer(workdir, env, output, urls["api"], urls["swagger_ui"], urls["spec"])
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C, as a user stops it
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_serve_prints_its_urls_and_how_to_get_a_token(server: LocalServer) -> None:
    printed = "".join(server.output)
    assert server.api.startswith("http://127.0.0.1:")
    assert server.swagger_ui == f"{server.base}/ui/"
    assert server.spec == f"{server.base}/openapi.json"
    assert "currency-api token" in printed
    assert "--client service" in printed
    assert "Authorize" in printed


def test_local_server_refuses_anonymous_reads(server: LocalServer) -> None:
    response = httpx.get(f"{server.api}/EUR")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="currency-api"'


def test_reader_token_reads_a_seeded_currency_but_cannot_write(server: LocalServer) -> None:
    token = server.token("--user", "reader")
    assert tokens.claims_of(token)["username"] == "reader"
    read = httpx.get(f"{server.api}/EUR", headers=bearer(token))
    assert read.status_code == 200
    assert read.json()["numericCode"] == "978"
    write = httpx.patch(
        f"{server.api}/EUR",
        content=b'{"symbol": "E"}',
        headers={**bearer(token), "Content-Type": "application/merge-patch+json"},
    )
    assert write.status_code == 403
    assert 'error="insufficient_scope"' in write.headers["www-authenticate"]


def test_admin_token_creates_and_deletes_a_currency(server: LocalServer) -> None:
    token = server.token()  # the default: the demo admin
    body = {"code": "ZZA", "name": "Local test", "numericCode": "901", "minorUnit": 2}
    created = httpx.post(server.api, json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["createdBy"] == tokens.claims_of(token)["sub"]
    assert httpx.delete(f"{server.api}/ZZA", headers=bearer(token)).status_code == 204


def test_service_token_with_write_scope_updates_a_currency(server: LocalServer) -> None:
    token = server.token("--client", "service", "--scope", "currencies/write")
    claims = tokens.claims_of(token)
    assert claims["scope"] == "currencies/write"
    response = httpx.patch(
        f"{server.api}/CHF",
        content=b'{"symbol": "Fr."}',
        headers={**bearer(token), "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["updatedBy"] == claims["client_id"]
    assert response.json()["createdBy"] != claims["client_id"]


def test_served_spec_offers_the_bearer_scheme_to_swagger_ui(server: LocalServer) -> None:
    spec = httpx.get(server.spec).json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    served = {
        (method, path): operation.get("security", spec["security"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation in secured_operations():
        requirements = served[(operation.method, operation.path)]
        # An alternative of bearerAuth alone: one pasted token authorizes the operation.
        assert {"bearerAuth": []} in requirements, operation
    ui = httpx.get(server.swagger_ui)
    assert ui.status_code == 200
    assert "/openapi.json" in ui.text
    config = httpx.get(f"{server.swagger_ui}swagger-ui-config.json").json()
    assert config["persistAuthorization"] is True


def test_request_formed_as_swagger_ui_sends_it_succeeds(server: LocalServer) -> None:
    # What Swagger UI's "Try it out" sends for GET /currencies/{code} once a token is pasted
    # under bearerAuth: the accept header of the response media type and the bearer header.
    token = server.token()
    response = httpx.get(
        f"{server.base}/currencies/EUR",
        headers={"accept": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json()["code"] == "EUR"
