"""Swagger UI's pages with a Content-Security-Policy that allows only what they load, and no
framing (clickjacking): the page holds a pasted access token.

What Connexion 3.3's bundled Swagger UI (swagger-ui-bundle) loads, read from its ``index.j2``
and ``oauth2-redirect.html`` and checked in headless Chromium (tests/browser/swagger_ui_csp.js):
its own scripts and styles from ``/ui/``; one inline ``<script>`` and one inline ``<style>``
per page (allowed by their SHA-256 hashes, computed from the page as served, so nothing else
inline can run); images and fonts from ``/ui/`` and ``data:`` URLs (the CSS embeds its icons);
``fetch`` of ``/openapi.json``, ``/ui/swagger-ui-config.json`` and the API itself (same
origin), and of the OAuth 2.0 token URLs the spec declares (the authorization code flow).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from currency_api.problems import PROBLEM_JSON, send_problem, status_title

#: Where create_app mounts Swagger UI.
UI_PATH: Final = "/ui"
#: The policy of Swagger UI's other files (scripts, styles, images, JSON): none is a page.
FILE_POLICY: Final = "default-src 'none'; frame-ancestors 'none'"
_INLINE: Final = re.compile(rb"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1>", re.DOTALL)


def token_origins(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The origins (``https://host``) of every OAuth 2.0 ``tokenUrl`` and ``refreshUrl`` the
    spec's security schemes declare: Swagger UI posts to them from the page."""
    origins: list[str] = []
    schemes = document.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        for flow in (scheme.get("flows") or {}).values():
            for key in ("tokenUrl", "refreshUrl"):
                parts = urlsplit(str(flow.get(key, "")))
                origin = f"{parts.scheme}://{parts.netloc}"
                if parts.scheme == "https" and parts.netloc and origin not in origins:
                    origins.append(origin)
    return tuple(origins)


def _hashes(html: bytes, element: bytes) -> Iterable[str]:
    for match in _INLINE.finditer(html):
        if match.group(1) == element:
            digest = base64.b64encode(hashlib.sha256(match.group(2)).digest()).decode()
            yield f"'sha256-{digest}'"


def policy(html: bytes, connect: Iterable[str] = ()) -> str:
    """The Content-Security-Policy (CSP Level 3) for one Swagger UI page as served."""
    scripts = " ".join(["'self'", *_hashes(html, b"script")])
    styles = " ".join(["'self'", *_hashes(html, b"style")])
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self' data:",
            " ".join(["connect-src 'self'", *connect]),
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SwaggerUIPolicy:
    """Adds to every answer under :data:`UI_PATH`: ``X-Frame-Options: DENY`` and
    ``Referrer-Policy: no-referrer``; to HTML pages the :func:`policy` for that very page
    (the body is buffered to hash its inline script and style); to other files a policy
    that allows nothing but no framing."""

    def __init__(self, app: ASGIApp, document: Mapping[str, Any]) -> None:
        self.app = app
        self.connect = token_origins(document)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path != UI_PATH and not path.startswith(UI_PATH + "/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        refused: Message | None = None
        chunks: list[bytes] = []

        async def send_with_policy(message: Message) -> None:
            nonlocal start, refused
            if refused is not None:  # the plain-text error's body: replaced, once complete
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    await _send_as_problem(send, refused)
                return
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-frame-options"] = "DENY"
                headers["referrer-policy"] = "no-referrer"
                if message["status"] >= 400 and not headers.get("content-type", "").startswith(
                    PROBLEM_JSON
                ):
                    refused = message
                    return
                if not headers.get("content-type", "").startswith("text/html"):
                    headers["content-security-policy"] = FILE_POLICY
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(chunks)
            headers = MutableHeaders(scope=start)
            headers["content-security-policy"] = policy(html, self.connect)
            await send(start)
            await send({"type": "http.response.body", "body": html})

        if scope.get("method") == "HEAD" and path.endswith((".html", "/")):
            # A page's policy hashes its inline code, and Starlette's static files send no
            # body for HEAD: the page is asked for as GET, so the HEAD's header fields are the
            # GET's (RFC 9110 section 9.3.2); the server (uvicorn, the Lambda adapter) sends
            # no content for a HEAD.
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send_with_policy)


#: What Starlette's file responses refuse in plain text, said as problem details: a ``Range``
#: header they cannot parse (400) or that lies outside the file (416, RFC 9110 section 15.5.17).
_FILE_REFUSALS: Final = {
    400: "The Range header is not a byte range of this file (RFC 9110 section 14.1.2).",
    416: "The range is outside the file; Content-Range gives its length.",
}


async def _send_as_problem(send: Send, start: Message) -> None:
    """Answer the refusal whose start message is ``start`` as problem+json, keeping its status
    and the header fields that describe it (``Content-Range``, ``Allow``) and the policy's."""
    status = int(start["status"])
    kept = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in start.get("headers", [])
        if name.lower()
        in (b"content-range", b"allow", b"x-frame-options", b"referrer-policy", b"www-authenticate")
    }
    kept["content-security-policy"] = FILE_POLICY
    detail = _FILE_REFUSALS.get(status, "Swagger UI has no answer for this request.")
    await send_problem(send, status, status_title(status), detail, kept)
