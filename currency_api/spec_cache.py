"""``/openapi.json`` and ``/openapi.yaml`` built once and served as bytes, with an ``ETag``,
``Cache-Control`` and ``304 Not Modified`` for ``If-None-Match`` (RFC 9110 sections 8.8.3,
13.1.2; RFC 9111 section 5.2).

Connexion renders either document on every request (the YAML took about 200 ms of CPU here,
for anyone, on a public route). This middleware asks the layers inside it once per distinct
document and keeps the answer. A document differs only by what names its server: the ASGI
``root_path`` and, on Lambda, the API Gateway domain and stage the event names (never the
``Host`` header, which a caller chooses); a bounded number of them is kept.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The paths Connexion serves the spec at (its default ``openapi_spec_path`` and the YAML twin).
SPEC_PATHS: Final = frozenset({"/openapi.json", "/openapi.yaml"})
#: How long a client or cache may reuse a document without asking again, in seconds; after
#: that a conditional request costs a 304. A deploy changes the document at most this late.
MAX_AGE_SECONDS: Final = 300
#: Distinct documents kept (server URLs times the two media types).
MAX_DOCUMENTS: Final = 16


@dataclass(frozen=True, slots=True)
class Document:
    """One rendered document: its bytes, the response headers that describe them, its ETag."""

    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    etag: str


def _server_key(scope: Scope) -> tuple[str, str, str]:
    """What a served document's ``servers`` may depend on (see the module docstring)."""
    event: Any = scope.get("aws.event")
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    domain = stage = ""
    if isinstance(context, Mapping):
        domain = str(context.get("domainName") or "")
        stage = str(context.get("stage") or "")
    return str(scope.get("root_path", "")), domain, stage


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison of ``If-None-Match`` with our ETag (RFC 9110 section 13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags


class SpecDocumentCache:
    """Answers ``GET`` and ``HEAD`` of :data:`SPEC_PATHS` from the documents already built:
    a ``HEAD`` gets the very header fields of the ``GET`` (RFC 9110 section 9.3.2), its
    ``Content-Length`` and ``ETag`` included; the server (uvicorn, or the Lambda adapter)
    leaves the content out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._documents: OrderedDict[tuple[str, ...], Document] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path not in SPEC_PATHS or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        key = (path, *_server_key(scope))
        document = self._documents.get(key)
        if document is None:
            document = await self._build(scope, receive, send)
            if document is None:
                return  # not a 200: already answered as the inner layers answered
            self._documents[key] = document
            while len(self._documents) > MAX_DOCUMENTS:
                self._documents.popitem(last=False)
        await self._answer(scope, send, document)

    async def _build(self, scope: Scope, receive: Receive, send: Send) -> Document | None:
        start: Message | None = None
        chunks: list[bytes] = []
        passed_on = False

        async def capture(message: Message) -> None:
            nonlocal start, passed_on
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200:
                    passed_on = True
                    await send(message)
            elif passed_on:
                await send(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None or passed_on:
            return None
        body = b"".join(chunks)
        kept = tuple(
            (name, value)
            for name, value in start.get("headers", [])
            if name.lower() in (b"content-type",)
        )
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return Document(body=body, headers=kept, etag=etag)

    async def _answer(self, scope: Scope, send: Send, document: Document) -> None:
        validators = [
            (b"etag", document.etag.encode()),
            (b"cache-control", f"public, max-age={MAX_AGE_SECONDS}".encode()),
        ]
        if_none_match = Headers(scope=scope).get("if-none-match")
        if if_none_match is not None and _matches(if_none_match, document.etag):
            await send({"type": "http.response.start", "status": 304, "headers": validators})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [
            *document.headers,
            (b"content-length", str(len(document.body)).encode()),
            *validators,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": document.body})
