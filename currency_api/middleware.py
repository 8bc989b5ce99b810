"""Small ASGI middlewares that create_app installs around Connexion's stack."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from connexion.uri_parsing import OpenAPIURIParser
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from currency_api.problems import RequestInvalid, Violation, send_problem


def joined_field(headers: Headers, name: str) -> str | None:
    """A header's field lines joined with ``", "``, the one value they mean (RFC 9110
    section 5.3; API Gateway joins them so before Lambda sees them); None if it is absent."""
    lines = headers.getlist(name)
    return ", ".join(lines) if lines else None


class BodyLimit:
    """Buffers the request body up to ``max_bytes``; larger bodies get 413 problem+json.

    The buffered body is replayed with an exact ``Content-Length``, so chunked uploads (which
    Connexion would treat as bodiless) are validated like any other body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared: str | None = None  # the first Content-Length line, as MutableHeaders reads it
        length_lines = 0
        coded = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                length_lines += 1
                if declared is None:
                    declared = value.decode("latin-1")
            elif name == b"transfer-encoding":
                coded = True
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        exact = str(len(body))
        if coded or length_lines > 1 or ((body or length_lines) and declared != exact):
            # Only then does a field change (the usual body already has one exact length).
            headers = MutableHeaders(scope=scope)
            if body or length_lines:
                headers["content-length"] = exact
            if coded:
                del headers["transfer-encoding"]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        detail = f"The body is larger than {self.max_bytes} bytes."
        await send_problem(send, 413, "Content Too Large", detail, {"connection": "close"})


#: The order in which an ``Allow`` value lists methods, the spec's and every other one alike.
METHOD_ORDER: Final = ("get", "head", "post", "put", "patch", "delete", "options", "trace")


def ordered_allow(value: str) -> str:
    """An ``Allow`` value (``"HEAD, GET"``) with its methods in :data:`METHOD_ORDER`, any
    other after them in their own order: Starlette joins a route's method *set*, whose order
    changes from one process to the next (string hashing is randomised)."""
    methods = [m.strip() for m in value.split(",") if m.strip()]
    rank = {name.upper(): index for index, name in enumerate(METHOD_ORDER)}
    return ", ".join(sorted(methods, key=lambda m: rank.get(m.upper(), len(rank))))


class AllowFromSpec:
    """The ``Allow`` of a 405: every method the spec declares for the path (RFC 9110 section
    15.5.6), plus ``HEAD`` where there is a ``GET`` (Starlette answers it).

    Connexion adds one Starlette route per operation, and Starlette's 405 names only the methods of
    the first route whose path matched (``PUT /currencies`` got ``Allow: GET, HEAD``, leaving out
    ``POST``). The routes are compiled from the spec document at the first 405, not at start,
    so cold starts do not pay for it. currency_api.edge.Edge sets it.
    """

    _METHODS = METHOD_ORDER

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._routes: list[tuple[re.Pattern[str], SpecPath]] | None = None

    def _load_routes(self) -> list[tuple[re.Pattern[str], SpecPath]]:
        routes = []
        for template, item in self.document.get("paths", {}).items():
            methods = [m.upper() for m in self._METHODS if m in item]
            if "GET" in methods and "HEAD" not in methods:
                methods.insert(1, "HEAD")
            pattern = re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template))
            found = SpecPath(template, ", ".join(methods), frozenset(methods))
            routes.append((re.compile(pattern), found))
        return routes

    def match(self, path: str) -> SpecPath | None:
        """The spec path that a request path matches, or None."""
        if self._routes is None:
            self._routes = self._load_routes()
        for pattern, found in self._routes:
            if pattern.fullmatch(path):
                return found
        return None

    def match_scope(self, scope: Scope) -> SpecPath | None:
        """:meth:`match` for the request of an ASGI scope (its path below ``root_path``)."""
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return self.match(path)


class SpecPath(NamedTuple):
    """A path of the spec as :class:`AllowFromSpec` matches it."""

    #: The path template (``/currencies/{code}``).
    template: str
    #: The ``Allow`` value (``GET, HEAD, PUT, PATCH, DELETE``).
    allow: str
    #: The same methods, upper case.
    methods: frozenset[str]


#: An integer as the spec's ``type: integer`` means it in a query: an optional minus and
#: ASCII digits. Python's ``int()`` also takes ``+5``, `` 5`` (``%205``, or ``+5`` decoded),
#: ``5_0`` (as 50) and digits of other scripts (``٥``).
_INTEGER: Final = re.compile(r"-?[0-9]+")


class SingleValueURIParser(OpenAPIURIParser):  # type: ignore[misc]
    """Connexion's OpenAPI 3 parser, but a scalar query parameter given twice is a 400, and
    an integer parameter must be written as :data:`_INTEGER` (a 400 naming it otherwise).

    Connexion would silently keep the last value (``?limit=2&limit=100``), so a cache or
    gateway in front may have read a different value than the app.
    """

    def resolve_params(self, params: dict[str, Any], _in: str) -> dict[str, Any]:
        if _in == "query":
            for name, values in params.items():
                schema = self.param_schemas.get(name)
                if schema and schema.get("type") != "array" and len(values) > 1:
                    raise RequestInvalid(
                        [Violation("must be given once", parameter=name, location="query")]
                    )
                if schema and schema.get("type") == "integer":
                    for value in values:
                        if not _INTEGER.fullmatch(value):
                            detail = "must be an integer written in ASCII digits (0-9)"
                            raise RequestInvalid(
                                [Violation(detail, parameter=name, location="query")]
                            )
        resolved: dict[str, Any] = super().resolve_params(params, _in)
        return resolved
