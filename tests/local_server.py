"""`currency-api serve` as a newcomer runs it: a subprocess in its own folder, on a free port,
with its own embedded moto; tokens from the real `token` command run in the same folder."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port

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


@contextmanager
def serving(workdir: Path) -> Iterator[LocalServer]:
    """`currency-api serve` in ``workdir`` until it prints its URLs; stopped with Ctrl+C.

    Raises:
        RuntimeError: it exited or printed no URLs within :data:`STARTUP_SECONDS`.
    """
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
            if process.poll() is not None:
                raise RuntimeError("serve exited:\n" + "".join(output))
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError("serve did not start:\n" + "".join(output)) from None
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
