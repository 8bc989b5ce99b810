"""/openapi.json and /openapi.yaml with a ``servers`` list that names the server serving them.

Connexion 3.3 serves the document with ``servers: [{"url": <root path>}]``, which is ``""`` at
the root: Swagger UI's Servers list is then empty. This middleware answers those two paths
itself, with the document as written (its ``$ref`` references and named component schemas
kept, so a client generated from the served URL gets the same named models as one generated
from ``spec/openapi.yaml``; Connexion would inline every reference, eight times the bytes) and
one server:

- a URL the operator configured (``PUBLIC_URL``; ``currency-api serve`` sets the URL it prints);
- else, on Lambda, ``https://{requestContext.domainName}`` plus ``/{stage}`` for a named stage.
  API Gateway writes both into the event (AWS, "Working with AWS Lambda proxy integrations for
  HTTP APIs", payload format 2.0); the domain is one configured on the API, not a ``Host``
  header a caller picks;
- else ``/``: relative to the document, the same server (OpenAPI 3.0.3, "Server Object").

A request's ``Host`` header is never used: a caller could make the document point elsewhere.
Each server URL's document is built once and kept (a bounded number of URLs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

#: The paths Connexion serves the document at (its default ``openapi_spec_path``).
JSON_PATH: Final = "/openapi.json"
YAML_PATH: Final = "/openapi.yaml"
#: Server URLs (custom domains, stages) whose documents are kept at once.
_MAX_URLS: Final = 8


def lambda_server_url(scope: Mapping[str, Any]) -> str | None:
    """``https://{domainName}[/{stage}]`` from the API Gateway event in the ASGI scope, if any."""
    event = scope.get("aws.event")
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    if not isinstance(context, Mapping):
        return None
    domain = context.get("domainName")
    if not isinstance(domain, str) or not domain:
        return None
    stage = context.get("stage")
    suffix = f"/{stage}" if isinstance(stage, str) and stage and stage != "$default" else ""
    return f"https://{domain}{suffix}"


class SpecServers:
    """ASGI middleware: GET (and HEAD) /openapi.json and /openapi.yaml, naming the real server."""

    def __init__(
        self, app: ASGIApp, document: Mapping[str, Any], public_url: str | None = None
    ) -> None:
        self.app = app
        self._document = dict(document)
        self._public_url = public_url.rstrip("/") if public_url else None
        self._built: dict[tuple[str, str], bytes] = {}

    def server_url(self, scope: Mapping[str, Any]) -> str:
        """The URL of this server, as the module docstring says."""
        return self._public_url or lambda_server_url(scope) or "/"

    def body(self, url: str, path: str) -> bytes:
        """The document for server ``url`` as JSON (UTF-8) or YAML bytes, built once."""
        key = (url, path)
        built = self._built.get(key)
        if built is None:
            document = {**self._document, "servers": [{"url": url, "description": "This server"}]}
            if path == JSON_PATH:
                built = json.dumps(document, ensure_ascii=False).encode()
            else:
                text = yaml.dump(document, allow_unicode=True, sort_keys=False)
                built = text.encode()
            if len(self._built) >= 2 * _MAX_URLS:
                self._built.clear()
            self._built[key] = built
        return built

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in (JSON_PATH, YAML_PATH) or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        body = self.body(self.server_url(scope), str(path))
        media = "application/json" if path == JSON_PATH else "text/yaml; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", media.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
