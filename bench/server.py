"""Servers: our app and the FastAPI peer on uvicorn, the same store on the same slow DynamoDB.

Processes on 127.0.0.1: moto's server (the DynamoDB emulator), a proxy that delays every
request to it by a fixed time (bench/delay_proxy.py), our app (bench/serve_ours.py) and the
peer (bench/serve_peer.py), both with boto3 calls in Starlette's thread pool and one access
line per request. Clients here (threads with keep-alive connections) send authenticated
``GET /currencies/EUR`` for a fixed time each; every answer must be a 200. Rounds interleave
(app, client count) phases in a shuffled order; the CPU time (user + system, from /proc) each
server process spent is divided by the requests it answered in that phase.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import boto3

from bench.common import LAMBDA_ONLY, REGION, TABLE_NAME, JwksServer, SigningKey, lambda_env
from bench.memory_store import EURO
from currency_api.store import CurrencyStore

ROOT: Final = Path(__file__).resolve().parent.parent
SERVERS: Final = {"ours": "bench.serve_ours", "peer": "bench.serve_peer"}


@dataclass
class Throughput:
    """Requests per second with ``clients`` concurrent clients, the median latency (ms) and the
    CPU seconds each process spent per request (ms), by role."""

    clients: int
    requests: int
    seconds: float
    median_ms: float
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (proc(5): fields 14 and 15, in ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _load(port: int, token: str, clients: int, seconds: float) -> Throughput:
    """``clients`` threads, each with one keep-alive connection, for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []
    start_gate = threading.Barrier(clients + 1)
    stop_at: list[float] = [0.0]
    headers = {"Authorization": f"Bearer {token}"}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_gate.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                connection.request("GET", "/currencies/EUR", headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"{response.status}")
                    return
                latencies[index].append((time.perf_counter() - began) * 1000)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"the server answered {failures[0]}")
    every = sorted(x for per_client in latencies for x in per_client)
    return Throughput(clients, len(every), elapsed, every[len(every) // 2] if every else 0.0)


@dataclass
class ServerResult:
    """Every phase of every (app, client count), in run order."""

    phases: dict[tuple[str, int], list[Throughput]] = field(default_factory=dict)

    def median(self, app: str, clients: int, what: str) -> float:
        values = []
        for phase in self.phases[(app, clients)]:
            if what == "cpu":
                values.append(phase.cpu_ms_per_request["server"])
            elif what == "rps":
                values.append(phase.per_second)
            else:
                values.append(phase.median_ms)
        return statistics.median(values)

    def requests(self, app: str, clients: int) -> int:
        return sum(phase.requests for phase in self.phases[(app, clients)])


def measure(
    delay_ms: float,
    seconds: float,
    client_counts: tuple[int, ...] = (1, 16),
    rounds: int = 3,
    seed: int | None = None,
) -> ServerResult:
    """``rounds`` interleaved phases of ``seconds`` per (server, client count), with every
    DynamoDB call ``delay_ms`` away."""
    key = SigningKey()
    token = key.access_token()
    moto_port, proxy_port = free_port(), free_port()
    ports = {app: free_port() for app in SERVERS}
    moto_url = f"http://127.0.0.1:{moto_port}"
    python = sys.executable
    result = ServerResult()
    with contextlib.ExitStack() as stack:
        jwks = stack.enter_context(JwksServer(key.jwks))
        # The deployed service's environment: the function's (METRICS=emf too, as the Fargate
        # task sets it, infra/service.py), less what only Lambda itself sets.
        env = {**os.environ, **lambda_env(jwks.url, f"http://127.0.0.1:{proxy_port}")}
        for name in LAMBDA_ONLY:
            env.pop(name, None)
        moto = stack.enter_context(
            process(
                [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                env,
                moto_port,
            )
        )
        direct = boto3.client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=moto_url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 (dummy for the emulator)
        )
        store = CurrencyStore(direct, TABLE_NAME)
        store.ensure_table()
        store.create(EURO, "bench")
        proxy = stack.enter_context(
            process(
                [
                    python,
                    "-m",
                    "bench.delay_proxy",
                    str(proxy_port),
                    "127.0.0.1",
                    str(moto_port),
                    str(delay_ms),
                ],
                env,
                proxy_port,
            )
        )
        servers = {
            app: stack.enter_context(
                process([python, "-m", module, str(ports[app])], env, ports[app])
            )
            for app, module in SERVERS.items()
        }
        others = {"emulator": moto.pid, "proxy": proxy.pid, "clients": os.getpid()}
        for app in SERVERS:
            # Warm-up: the JWKS, pooled connections and every lazy first-request job.
            _load(ports[app], token, max(client_counts), min(1.0, seconds))
        phases = [(app, clients) for app in SERVERS for clients in client_counts]
        shuffle = random.Random(seed)
        for _ in range(rounds):
            shuffle.shuffle(phases)
            for app, clients in phases:
                roles = {"server": servers[app].pid, **others}
                before = {role: cpu_seconds(pid) for role, pid in roles.items()}
                phase = _load(ports[app], token, clients, seconds)
                phase.cpu_ms_per_request = {
                    role: (cpu_seconds(pid) - before[role]) * 1000 / max(1, phase.requests)
                    for role, pid in roles.items()
                }
                result.phases.setdefault((app, clients), []).append(phase)
    return result
