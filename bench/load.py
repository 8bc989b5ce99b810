"""Sustained load on the local server: `make load` (or `python -m bench.load`).

Three processes on 127.0.0.1: moto's server (DynamoDB and Cognito), the API as `currency-api
serve` runs it (uvicorn, boto3 calls in the thread pool, JSON access log, ISO 4217 seeded),
and this load generator: ``concurrency`` clients sending a fixed number of requests with a
real admin token, a mix of reads and writes. It prints throughput, latency percentiles, the
status counts and the server's resident memory (RSS) before and after, and exits non-zero on
any 5xx, any transport error, or RSS growth over the bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: Share of each kind of request in the mix (reads 80 %, writes 20 %).
MIX: dict[str, float] = {"get": 0.6, "list": 0.2, "patch": 0.1, "create": 0.05, "delete": 0.05}
#: Requests sent before the first RSS reading (imports, caches and pools warm up first).
WARM_UP = 200
#: RSS growth over the run that fails it, in MiB.
RSS_BOUND_MIB = 32.0


@dataclass
class LoadReport:
    """What one run measured. Latencies in milliseconds, RSS in MiB, duration in seconds."""

    requests: int
    concurrency: int
    duration_s: float
    latencies_ms: list[float] = field(repr=False)
    statuses: Counter[int]
    errors: Counter[str]
    rss_before_mib: float
    rss_after_mib: float

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def rss_growth_mib(self) -> float:
        return self.rss_after_mib - self.rss_before_mib

    @property
    def throughput(self) -> float:
        return self.requests / self.duration_s

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def ok(self) -> bool:
        return not self.server_errors and not self.errors and self.rss_growth_mib <= RSS_BOUND_MIB

    def table(self) -> str:
        rows = [
            ("requests", f"{self.requests} at concurrency {self.concurrency}"),
            ("duration", f"{self.duration_s:.2f} s"),
            ("throughput", f"{self.throughput:.0f} requests/s"),
            ("latency p50", f"{self.percentile(50):.1f} ms"),
            ("latency p95", f"{self.percentile(95):.1f} ms"),
            ("latency p99", f"{self.percentile(99):.1f} ms"),
            ("latency max", f"{max(self.latencies_ms):.1f} ms"),
            ("latency mean", f"{statistics.fmean(self.latencies_ms):.1f} ms"),
            ("statuses", ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))),
            ("5xx", str(self.server_errors)),
            ("transport errors", ", ".join(f"{e}: {n}" for e, n in self.errors.items()) or "0"),
            ("server RSS before", f"{self.rss_before_mib:.1f} MiB (after {WARM_UP} requests)"),
            ("server RSS after", f"{self.rss_after_mib:.1f} MiB"),
            ("RSS growth", f"{self.rss_growth_mib:+.1f} MiB (bound {RSS_BOUND_MIB:.0f} MiB)"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident set size of a process in MiB, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class Stack:
    """The running emulator and server, and what a client needs to call them."""

    base_url: str
    server_pid: int
    token: str
    iso_codes: list[str]
    log_path: Path
    #: Numeric codes no ISO currency holds, for the scratch currencies the load creates.
    free_numeric_codes: list[str]


@contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """moto and `currency-api serve` as separate processes on free loopback ports."""
    from currency_api import local
    from currency_api.iso4217 import read_list_one

    moto_port, api_port = _free_port(), _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "LOG_LEVEL": "INFO"}
    log_path = workdir / "server.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        moto = subprocess.Popen(
            # The embedded emulator (moto one request at a time, as DynamoDB applies them:
            # currency_api.local), in a process of its own.
            [sys.executable, "-m", "currency_api.local", str(moto_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(moto)
        _wait_for(f"{endpoint}/moto-api/", moto)
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "currency_api.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(api_port),
                ],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.append(server)
        base_url = f"http://127.0.0.1:{api_port}"
        _wait_for(f"{base_url}/health", server, timeout=120)
        cognito = local.LocalCognito.load(workdir / local.STATE_FILE)
        import boto3

        # Explicit endpoint and dummy credentials: this process's environment stays as it was.
        cognito_client: Any = boto3.client(
            "cognito-idp",
            region_name=cognito.region,
            endpoint_url=cognito.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 (moto accepts anything)
        )
        token = local.password_token(cognito_client, cognito, cognito.admin_username)
        iso = read_list_one()
        held = {currency.numeric_code for currency in iso}
        free = [f"{n:03d}" for n in range(1000) if f"{n:03d}" not in held]
        yield Stack(base_url, server.pid, token, [c.code for c in iso], log_path, free)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


async def _one(client: httpx.AsyncClient, kind: str, stack: Stack, scratch: list[str]) -> int:
    rng = random.Random()
    if kind == "get":
        response = await client.get(f"/currencies/{rng.choice(stack.iso_codes)}")
    elif kind == "list":
        response = await client.get("/currencies", params={"limit": rng.choice([10, 20, 50])})
    elif kind == "patch":
        symbol = "".join(rng.choices(string.ascii_letters, k=3))
        response = await client.patch(
            f"/currencies/{rng.choice(stack.iso_codes[:20])}",
            json={"symbol": symbol},
            headers={"Content-Type": "application/merge-patch+json"},
        )
    elif kind == "create":
        code = rng.choice(scratch)
        # ISO 4217 numeric codes are unique: each scratch code has its own, held by no ISO one.
        numeric = stack.free_numeric_codes[scratch.index(code)]
        body = {"code": code, "name": f"Load {code}", "numericCode": numeric, "minorUnit": 2}
        response = await client.post("/currencies", json=body)
    else:
        response = await client.delete(f"/currencies/{rng.choice(scratch)}")
    return response.status_code


async def _drive(stack: Stack, requests: int, concurrency: int) -> LoadReport:
    taken = set(stack.iso_codes)
    scratch = [
        f"Q{a}{b}"
        for a in string.ascii_uppercase
        for b in string.ascii_uppercase
        if f"Q{a}{b}" not in taken
    ][:100]
    kinds = list(MIX)
    weights = list(MIX.values())
    plan = random.Random(5).choices(kinds, weights, k=WARM_UP + requests)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {stack.token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    rss_before = 0.0
    async with httpx.AsyncClient(
        base_url=stack.base_url, headers=headers, limits=limits, timeout=60
    ) as client:

        async def worker(queue: asyncio.Queue[tuple[int, str]]) -> None:
            while True:
                try:
                    index, kind = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    status = await _one(client, kind, stack, scratch)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                if index >= WARM_UP:
                    latencies.append((time.perf_counter() - started) * 1000)
                    statuses[status] += 1

        async def phase(items: list[tuple[int, str]]) -> None:
            queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
            for item in items:
                queue.put_nowait(item)
            await asyncio.gather(*(worker(queue) for _ in range(concurrency)))

        numbered = list(enumerate(plan))
        await phase(numbered[:WARM_UP])
        rss_before = rss_mib(stack.server_pid)
        started = time.perf_counter()
        await phase(numbered[WARM_UP:])
        duration = time.perf_counter() - started
    return LoadReport(
        requests=requests,
        concurrency=concurrency,
        duration_s=duration,
        latencies_ms=latencies,
        statuses=statuses,
        errors=errors,
        rss_before_mib=rss_before,
        rss_after_mib=rss_mib(stack.server_pid),
    )


def run(requests: int, concurrency: int) -> LoadReport:
    """Start the stack, send the load, stop the stack; the measurements."""
    with (
        tempfile.TemporaryDirectory(prefix="currency-load-") as tmp,
        running_stack(Path(tmp)) as stack,
    ):
        report = asyncio.run(_drive(stack, requests, concurrency))
        access_lines = sum(
            1
            for line in stack.log_path.read_text().splitlines()
            if line.startswith("{") and json.loads(line).get("logger") == "currency_api.access"
        )
        if access_lines < WARM_UP + requests:
            report.errors["missing access-log lines"] = WARM_UP + requests - access_lines
        return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--requests", type=int, default=5_000, help="measured requests")
    parser.add_argument("--concurrency", type=int, default=32, help="clients at once")
    args = parser.parse_args(argv)
    report = run(args.requests, args.concurrency)
    print(report.table())
    if not report.ok:
        print("FAILED: 5xx, transport errors or RSS growth over the bound", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
