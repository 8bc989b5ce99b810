"""A fault-injecting HTTP proxy on 127.0.0.1, in front of an emulator.

botocore (or the JWKS client) talks to it over real TCP; it forwards to the emulator, or
injects a fault into chosen DynamoDB operations (named by the ``X-Amz-Target`` header) or into
every request. It counts the requests it received per operation, so tests can prove how many
attempts a client made.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

#: pass: forward. status: answer ``status`` with an AWS JSON error body, do not forward.
#: reset: close the connection without an answer. hang: read the request, never answer.
#: slow: wait ``delay`` seconds, then forward. lose_response: forward (the write is applied),
#: then never answer, as when a response is lost on the way back.
Mode = Literal["pass", "status", "reset", "hang", "slow", "lose_response"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class Fault:
    mode: Mode = "pass"
    operations: frozenset[str] | None = None  # None: every request
    status: int = 500
    error_type: str = "InternalServerError"
    delay: float = 0.0
    times: int | None = None  # None: every matching request; n: only the first n

    def applies_to(self, operation: str) -> bool:
        """Whether this request gets the fault (counts it against ``times``)."""
        if self.mode == "pass" or (
            self.operations is not None and operation not in self.operations
        ):
            return False
        if self.times is None:
            return True
        self.times -= 1
        return self.times >= 0


class FaultProxy:
    """The proxy; ``url`` is its base URL. Use ``inject`` and ``heal`` while it runs."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.fault = Fault()
        self.received: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._released = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("x-amz-target") or ""
                operation = target.rpartition(".")[2] or f"{self.command} {self.path}"
                with proxy._lock:
                    proxy.received[operation] += 1
                    fault = proxy.fault
                    faulty = fault.applies_to(operation)
                if not faulty:
                    self._forward(body)
                elif fault.mode == "status":
                    self._answer_error(fault)
                elif fault.mode == "reset":
                    self.close_connection = True
                    self.connection.close()
                elif fault.mode == "hang":
                    proxy._released.wait(10)
                    self.close_connection = True
                elif fault.mode == "slow":
                    time.sleep(fault.delay)
                    self._forward(body)
                elif fault.mode == "lose_response":
                    self._forward(body, answer=False)
                    proxy._released.wait(10)
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

            def _forward(self, body: bytes, answer: bool = True) -> None:
                upstream = http.client.HTTPConnection(*proxy._upstream, timeout=10)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    if not answer:
                        return
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in _HOP_BY_HOP:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream.close()

            def _answer_error(self, fault: Fault) -> None:
                payload = json.dumps(
                    {
                        "__type": f"com.amazonaws.dynamodb.v20120810#{fault.error_type}",
                        "message": "injected by FaultProxy",
                    }
                ).encode()
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-ErrorType", fault.error_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def inject(
        self,
        mode: Mode,
        operations: set[str] | None = None,
        *,
        status: int = 500,
        error_type: str = "InternalServerError",
        delay: float = 0.0,
        times: int | None = None,
    ) -> None:
        """Fault the given operations (e.g. ``{"PutItem"}``), or every request; with
        ``times``, only the first ``times`` of them."""
        with self._lock:
            self._released.clear()
            self.fault = Fault(
                mode,
                frozenset(operations) if operations else None,
                status,
                error_type,
                delay,
                times,
            )
            self.received.clear()

    def heal(self) -> None:
        """Forward everything again; hung requests are let go (they still get no answer)."""
        with self._lock:
            self.fault = Fault()
            self._released.set()
