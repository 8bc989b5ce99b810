"""A JWKS endpoint the test controls: its key set, whether it answers, and how often it was hit.

A real HTTP server (stdlib ``http.server``) on 127.0.0.1 in a thread, so the app fetches
it exactly as it fetches Cognito's ``/.well-known/jwks.json``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["up", "error", "hang"]


class JwksServer:
    """Serves ``{"keys": [...]}`` at any path.

    Modes: ``up`` answers 200 with the key set; ``error`` answers 503 (the endpoint is down);
    ``hang`` accepts the connection and answers nothing until the server stops.
    ``hits`` counts every request, whatever the mode.
    """

    def __init__(self, keys: list[dict[str, Any]] | None = None, mode: Mode = "up") -> None:
        self.keys: list[dict[str, Any]] = list(keys or [])
        self.mode: Mode = mode
        self.hits = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/pool/.well-known/jwks.json"

    def start(self) -> JwksServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits += 1
                    mode = server.mode
                    body = json.dumps({"keys": server.keys}).encode()
                if mode == "hang":
                    server._stopping.wait(timeout=30)
                    return
                if mode == "error":
                    self.send_error(503, "JWKS endpoint down")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
