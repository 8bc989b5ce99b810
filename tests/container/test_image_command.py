"""The container image's exact command, run outside a container against the emulators.

No Docker engine or image registry is reachable here, so the image is never built in CI.
What can be proven without it is proven: the Dockerfile's shape and lint, that the image's
dependency set holds no emulator, and the image's ENTRYPOINT + CMD with the image's ENV,
started as a process of this environment's interpreter (``currency-api`` on PATH, as in the
image's venv) and pointed at moto through the AWS endpoint variables, exactly as a container
would be pointed at AWS. Only ``HOST`` is changed (127.0.0.1, not the image's 0.0.0.0: tests
listen on loopback only) and ``PORT`` (a free one).
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging import tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from currency_api import local
from currency_api.store import READ_TIMEOUT_SECONDS, CurrencyStore
from tests.conftest import euro
from tests.emf import assert_valid_emf, emf_records
from tests.ports import free_port
from tests.reliability.proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
STARTUP_SECONDS = 60
#: The delay every GetItem gets on its way to DynamoDB in the SIGTERM test: SIGTERM lands
#: while the requests wait, and the store's read timeout still lets them through.
SLOW_SECONDS = READ_TIMEOUT_SECONDS / 2


@dataclass
class Dockerfile:
    """What the tests read from the Dockerfile: stages and the final stage's instructions."""

    stages: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    instructions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def command(self) -> list[str]:
        """ENTRYPOINT + CMD of the final stage (exec form, JSON arrays)."""
        entrypoint = json.loads(self.instructions["ENTRYPOINT"][-1])
        cmd = json.loads(self.instructions["CMD"][-1])
        return [*entrypoint, *cmd]


def read_dockerfile(path: Path = DOCKERFILE) -> Dockerfile:
    """Instructions per keyword (continuations joined); ENV and the rest of the final stage."""
    text = path.read_text().replace("\\\n", " ")
    parsed = Dockerfile()
    args: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and "=" in rest and not parsed.stages:
            name, _, value = rest.partition("=")
            args[name.strip()] = value.strip()
        elif keyword == "FROM":
            image = rest.split()[0]
            for name, value in args.items():
                image = image.replace("${" + name + "}", value)
            parsed.stages.append(image)
            parsed.env.clear()
            parsed.instructions.clear()
        elif keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                parsed.env[name] = value
        else:
            parsed.instructions.setdefault(keyword, []).append(rest.strip())
    return parsed


# --- the Dockerfile ------------------------------------------------------------------------


def test_dockerfile_builds_in_stages_on_slim_python_and_runs_unprivileged() -> None:
    dockerfile = read_dockerfile()
    assert dockerfile.stages == ["python:3.13-slim", "python:3.13-slim"]
    (user,) = dockerfile.instructions["USER"]
    assert user.split(":")[0] not in {"0", "root"}
    assert "PYTHONDONTWRITEBYTECODE" not in dockerfile.env  # .pyc compiled at build time
    assert any("compileall" in run for run in read_dockerfile_build_runs())
    (healthcheck,) = dockerfile.instructions["HEALTHCHECK"]
    assert "/health" in healthcheck
    assert "curl" not in healthcheck  # the slim image has none
    assert dockerfile.command == ["currency-api", "serve", "--aws"]
    # No compiler, package manager cache or pip in the image that runs.
    runs = " ".join(dockerfile.instructions["RUN"])
    assert "apt-get" not in runs
    assert "pip uninstall" in runs


def read_dockerfile_build_runs() -> list[str]:
    """The RUN instructions of the build stage (the first)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    build, _, _ = text.partition("\nFROM ${PYTHON_IMAGE}\n")
    return [line.strip()[4:] for line in build.splitlines() if line.strip().startswith("RUN ")]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run(  # noqa: S603  (the linter the dev extra installs, our file)
        [str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_installs_no_emulator_and_no_dev_tool() -> None:
    """The image's dependency set, as its build exports it from uv.lock."""
    names = image_packages()
    assert {"uvicorn", "httptools", "connexion", "boto3", "aws-lambda-powertools"} <= names
    for absent in ("moto", "pytest", "iso4217", "fastapi", "aws-cdk-lib"):
        assert absent not in names, absent


def image_packages() -> set[str]:
    """The distributions the image installs, as its build exports them from uv.lock."""
    uv = ROOT / "build" / "tools" / "uv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("uv is installed by `make install` into build/tools/uv")
    done = subprocess.run(  # noqa: S603  (uv from the Makefile, fixed arguments)
        [str(uv), "export", "--frozen", "--no-dev", "--no-emit-project", "--extra", "server"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return {
        line.split("==")[0]
        for line in done.stdout.splitlines()
        if line and not line.startswith((" ", "#"))
    }


@pytest.mark.parametrize("arch", ["aarch64", "x86_64"])
def test_every_locked_image_dependency_has_a_wheel_for_the_image(arch: str) -> None:
    """The build installs wheels only (``--only-binary=:all:``): each package the image needs
    has, in uv.lock, a wheel that CPython 3.13 on glibc Linux can install, for arm64 (what the
    Fargate task runs) and x86_64 (a plain ``docker build`` on a PC)."""
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(36, 16, -1)]
    platforms.append(f"manylinux2014_{arch}")
    supported = {
        *tags.cpython_tags((3, 13), abis=["cp313", "abi3", "none"], platforms=platforms),
        *tags.compatible_tags((3, 13), "cp313", platforms),
    }
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    wheels = {
        canonicalize_name(package["name"]): [
            w["url"].rsplit("/", 1)[-1] for w in package.get("wheels", [])
        ]
        for package in lock["package"]
    }
    missing = []
    for name in sorted(image_packages()):
        files = wheels[canonicalize_name(name)]
        if not any(supported & parse_wheel_filename(file)[3] for file in files):
            missing.append(name)
    assert missing == []


# --- the image's command against the emulators -------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    base: str
    output: list[str]
    lines: queue.Queue[str]

    def collect(self) -> list[str]:
        """Output so far (the drain thread feeds ``lines``)."""
        while True:
            try:
                self.output.append(self.lines.get_nowait())
            except queue.Empty:
                return self.output

    def json_lines(self) -> list[dict[str, Any]]:
        records = []
        for line in self.collect():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                records.append(value)
        return records

    def access_lines(self) -> list[dict[str, Any]]:
        return [r for r in self.json_lines() if r.get("logger") == "currency_api.access"]


@pytest.fixture
def proxy(emulator: local.Emulator) -> Iterator[FaultProxy]:
    """DynamoDB reached through a proxy that can slow requests down."""
    fault_proxy = FaultProxy(emulator.endpoint).start()
    yield fault_proxy
    fault_proxy.heal()
    fault_proxy.stop()


@pytest.fixture
def server(
    proxy: FaultProxy, cognito: local.LocalCognito, store: CurrencyStore, tmp_path: Path
) -> Iterator[Server]:
    """The image's ENTRYPOINT + CMD with its ENV, pointed at moto (DynamoDB via the proxy)."""
    store.create(euro(), actor="test")
    dockerfile = read_dockerfile()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COGNITO_"))},
        **dockerfile.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        # What the Fargate task sets (infra/service.py), with the emulators' endpoints.
        "TABLE_NAME": store.table_name,
        "AWS_REGION": cognito.region,
        "COGNITO_USER_POOL_ID": cognito.user_pool_id,
        "COGNITO_APP_CLIENT_IDS": f"{cognito.public_client_id},{cognito.service_client_id}",
        "COGNITO_JWKS_URL": cognito.jwks_url,
        "CURSOR_SECRET": "test-secret",
        "METRICS": "emf",
        "METRICS_NAMESPACE": "CurrencyApi/test/service",
        "AWS_ENDPOINT_URL_DYNAMODB": proxy.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # dummy: moto accepts anything
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    process = subprocess.Popen(  # noqa: S603  (the Dockerfile's own command)
        dockerfile.command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    running = Server(process, f"http://127.0.0.1:{port}", [], lines)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        workers = int(dockerfile.env["WEB_CONCURRENCY"])
        while sum("Application startup complete" in line for line in running.collect()) < workers:
            assert process.poll() is None, "".join(running.output)
            if time.monotonic() > deadline:
                pytest.fail("the image's command did not start:\n" + "".join(running.output))
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_image_command_serves_the_api_from_several_worker_processes(
    server: Server, admin: dict[str, str]
) -> None:
    assert httpx.get(f"{server.base}/health").json() == {"status": "ok"}
    answer = httpx.get(f"{server.base}/currencies/EUR", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Euro"

    # New connections, several at once: the workers share the socket; bounded rounds until
    # access lines from two processes are seen.
    pids: set[int] = set()
    for _ in range(40):
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: httpx.get(f"{server.base}/health").status_code, range(16))
            )
        assert statuses == [200] * 16
        pids = {line["pid"] for line in server.access_lines()}
        if len(pids) >= 2:
            break
    served = len(server.access_lines())
    assert len(pids) >= 2, f"all {served} requests were served by one process: {pids}"
    assert server.process.pid not in pids  # the parent supervises, the workers serve

    started = [
        line for line in server.json_lines() if "Started server process" in line.get("message", "")
    ]
    # Two workers started (a third if the parent replaced one that missed its health ping).
    assert len({line["pid"] for line in started}) >= 2
    # The Fargate task's metrics setting turns the same EMF records on as on Lambda.
    records = emf_records("".join(server.collect()))
    assert any(record["operationId"] == "getCurrency" for record in records)
    for record in records:
        assert_valid_emf(record)


def test_sigterm_lets_in_flight_requests_finish_then_the_server_exits(
    server: Server, proxy: FaultProxy, admin: dict[str, str]
) -> None:
    proxy.inject("slow", {"GetItem"}, delay=SLOW_SECONDS)
    in_flight = 4
    with ThreadPoolExecutor(in_flight) as pool:
        answers = [
            pool.submit(httpx.get, f"{server.base}/currencies/EUR", headers=admin, timeout=30)
            for _ in range(in_flight)
        ]
        # Every request has reached DynamoDB (the proxy holds it): they are in flight.
        deadline = time.monotonic() + 20
        while proxy.received["GetItem"] < in_flight:
            assert time.monotonic() < deadline, proxy.received
            time.sleep(0.05)
        server.process.send_signal(signal.SIGTERM)
        statuses = [answer.result().status_code for answer in answers]

    assert statuses == [200] * in_flight
    assert server.process.wait(timeout=30) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base}/health", timeout=2)
    messages = [str(line.get("message", "")) for line in server.json_lines()]
    assert sum("Finished server process" in message for message in messages) == 2
    assert any("Stopping parent process" in message for message in messages)
