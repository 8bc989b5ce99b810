"""Bounded work per request: limits derived from the spec, checked on the raw ASGI scope
before anything parses the query string, the header lists or the body framing."""

from __future__ import annotations

import functools
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from starlette.types import ASGIApp, Receive, Scope, Send

from currency_api.guards import raw_path
from currency_api.problems import Violation, send_problem

#: Parameters allowed per parameter the largest operation declares (clients add nothing the
#: spec does not declare: strict validation refuses unknown ones, so this is slack enough).
QUERY_MARGIN: Final = 4
#: The fewest parameters and bytes a query may always have, whatever the spec declares.
MIN_QUERY_PARAMETERS: Final = 8
MIN_QUERY_BYTES: Final = 1024
#: Worst-case bytes of one character of a string parameter once percent-encoded (UTF-8, 3 per
#: byte): the length bound counts the query as sent, not as decoded.
ENCODED_BYTES_PER_CHARACTER: Final = 12
#: What a string parameter without ``maxLength`` may hold, in characters.
UNDECLARED_MAX_LENGTH: Final = 256
#: Repeats of an array parameter without ``maxItems``.
UNDECLARED_MAX_ITEMS: Final = 16
#: Header field lines with one name (RFC 9110 section 5.3 lets list fields repeat; nothing
#: here needs more than a few: ``Cookie`` and ``Forwarded`` from proxies, ``If-Match``...).
MAX_FIELD_LINES: Final = 16
#: Header field lines in all.
MAX_FIELDS: Final = 100
#: Longest ``Content-Type`` value, in bytes. Media types of the spec with a charset are
#: well under 100; a longer one is refused before anything echoes or logs it.
MAX_CONTENT_TYPE_BYTES: Final = 256
#: The path under which Swagger UI serves its page and files (trailing slashes are its own).
SWAGGER_UI_PATH: Final = "/ui/"


@dataclass(frozen=True, slots=True)
class Bounds:
    """What one request may carry, derived from the spec by :func:`bounds_from_spec`.

    ``max_query_parameters``: ``&``-separated items in the query string; ``max_query_bytes``:
    its length as received (percent-encoded); ``header_max_lengths``: for each header
    parameter the spec declares (lower-case name), the ``maxLength`` of the value after
    repeated field lines are joined with ``", "`` (RFC 9110 section 5.3).
    """

    max_query_parameters: int
    max_query_bytes: int
    header_max_lengths: Mapping[str, int]


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (``#/components/...``) to what it names."""
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _parameters(document: Mapping[str, Any]) -> Iterable[list[Mapping[str, Any]]]:
    """The resolved parameters of each operation (path-level ones included)."""
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    for item in document.get("paths", {}).values():
        shared = [_resolve(document, p) for p in item.get("parameters", [])]
        for method in methods:
            if method in item:
                own = [_resolve(document, p) for p in item[method].get("parameters", [])]
                named = {(p["name"], p["in"]): p for p in [*shared, *own]}
                yield list(named.values())


def _value_characters(schema: Mapping[str, Any]) -> int:
    """The longest text a scalar parameter value can be, in characters."""
    if schema.get("type") == "integer":
        extremes = [schema.get("minimum", -(2**63)), schema.get("maximum", 2**63 - 1)]
        return max(len(str(int(value))) for value in extremes)
    if schema.get("type") == "number":
        return 32
    if schema.get("type") == "boolean":
        return 5
    if "enum" in schema:
        return max(len(str(value)) for value in schema["enum"])
    return int(schema.get("maxLength", UNDECLARED_MAX_LENGTH))


def bounds_from_spec(document: Mapping[str, Any]) -> Bounds:
    """The request bounds the spec implies (computed once, when the app is built).

    Per operation: each declared query parameter counts once (an array parameter its
    ``maxItems``, or :data:`UNDECLARED_MAX_ITEMS`), and its longest encoded form is
    ``name=value&`` with every value character percent-encoded at worst (that worst case
    is the length's margin). The largest operation is the bound, its parameter count times
    :data:`QUERY_MARGIN`, and never less than the ``MIN_`` values.
    """
    most_parameters = 0
    most_bytes = 0
    headers: dict[str, int] = {}
    for parameters in _parameters(document):
        count = 0
        size = 0
        for parameter in parameters:
            schema = _resolve(document, parameter.get("schema", {}))
            if parameter["in"] == "header" and "maxLength" in schema:
                name = str(parameter["name"]).lower()
                headers[name] = min(headers.get(name, schema["maxLength"]), schema["maxLength"])
            if parameter["in"] != "query":
                continue
            repeats = 1
            if schema.get("type") == "array":
                repeats = int(schema.get("maxItems", UNDECLARED_MAX_ITEMS))
                schema = _resolve(document, schema.get("items", {}))
            value = _value_characters(schema) * ENCODED_BYTES_PER_CHARACTER
            count += repeats
            size += repeats * (len(parameter["name"]) + 2 + value)  # "name=value&"
        most_parameters = max(most_parameters, count)
        most_bytes = max(most_bytes, size)
    return Bounds(
        max_query_parameters=max(MIN_QUERY_PARAMETERS, most_parameters * QUERY_MARGIN),
        max_query_bytes=max(MIN_QUERY_BYTES, most_bytes),
        header_max_lengths=headers,
    )


#: (status, title, detail, headers), optionally with the problem's extension members.
Refusal = (
    tuple[int, str, str, dict[str, str]] | tuple[int, str, str, dict[str, str], dict[str, Any]]
)
#: Sent with refusals after which the connection must not be reused (RFC 9112 section 6.3:
#: the body framing is in doubt, so the next bytes cannot be trusted as a new request).
_CLOSE: Final = {"connection": "close"}


class InputBounds:
    """Refuses, from the raw ASGI scope and before any parsing, requests that would cost
    more than any operation of the spec needs, or whose framing is ambiguous.

    - More ``&``-separated query parameters than the bound: 400; a longer query: 414.
    - A header name on more than :data:`MAX_FIELD_LINES` lines, or more than
      :data:`MAX_FIELDS` lines in all: 431. A declared header whose joined field lines are
      longer than its ``maxLength``: 400 (one line was always checked; now all of them).
    - ``Content-Type`` longer than :data:`MAX_CONTENT_TYPE_BYTES`: 415, echoing nothing.
    - ``Transfer-Encoding`` with ``Content-Length``: 400 and the connection closed (RFC 9112
      section 6.3); a transfer coding other than ``chunked``: 501, closed (section 6.1).
    - A path ending in ``/`` (outside Swagger UI): 404. Starlette would redirect to the path
      without it, in an absolute URL built from the caller's ``Host``.
    """

    def __init__(self, app: ASGIApp, bounds: Bounds) -> None:
        self.app = app
        self.bounds = bounds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(scope)
            if refusal is not None:
                await send_problem(send, *refusal)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> Refusal | None:
        """Why this request is refused (status, title, detail, headers), or None."""
        return (
            self._query(scope.get("query_string", b""))
            or self._headers(scope.get("headers", ()))
            or self._path(scope)
        )

    def _query(self, query: bytes) -> Refusal | None:
        bounds = self.bounds
        if len(query) > bounds.max_query_bytes:
            detail = f"The query string is longer than {bounds.max_query_bytes} bytes."
            return 414, "URI Too Long", detail, {}
        if query and query.count(b"&") + 1 > bounds.max_query_parameters:
            detail = f"The query string has more than {bounds.max_query_parameters} parameters."
            return 400, "Bad Request", detail, {}
        return None

    def _headers(self, headers: Sequence[tuple[bytes, bytes]]) -> Refusal | None:
        if len(headers) > MAX_FIELDS:
            detail = f"The request has more than {MAX_FIELDS} header fields."
            return 431, "Request Header Fields Too Large", detail, {}
        fields = dict(headers)
        if len(fields) == len(headers):
            # No name on two lines (the usual request): each field is its one line.
            joined = {name: len(fields[name]) for name in self._measured if name in fields}
            return self._field_sizes(headers, joined, fields)
        lines: dict[bytes, int] = {}
        joined = {}
        for name, value in headers:
            lines[name] = lines.get(name, 0) + 1
            joined[name] = joined.get(name, -2) + 2 + len(value)  # ", " between lines
        for name, count in lines.items():
            if count > MAX_FIELD_LINES:
                field = name.decode("latin-1")[:40]
                detail = f"The header '{field}' is sent on more than {MAX_FIELD_LINES} lines."
                return 431, "Request Header Fields Too Large", detail, {}
        return self._field_sizes(headers, joined, lines)

    @functools.cached_property
    def _measured(self) -> tuple[bytes, ...]:
        """The header names whose joined length :meth:`_field_sizes` reads."""
        return (*(name for name, _, _ in self._declared), b"content-type")

    @functools.cached_property
    def _declared(self) -> tuple[tuple[bytes, str, int], ...]:
        """Each declared header as (its ASGI name, its spec name, its longest joined value)."""
        return tuple(
            (name.encode(), name, most) for name, most in self.bounds.header_max_lengths.items()
        )

    def _field_sizes(
        self,
        headers: Sequence[tuple[bytes, bytes]],
        joined: Mapping[bytes, int],
        present: Container[bytes],
    ) -> Refusal | None:
        """The checks of joined field lengths (``joined``: bytes of each name's lines joined
        with ``", "``, for at least :attr:`_measured`) and of the transfer coding."""
        for encoded, field_name, most in self._declared:
            size = joined.get(encoded)
            if size is not None and size > most:
                # The same violation request validation reports for a single field line.
                violation = Violation(
                    f"must be at most {most} characters long",
                    parameter=field_name.title(),
                    location="header",
                )
                errors = {"errors": [violation.as_json()]}
                return 400, "Bad Request", violation.sentence(), {}, errors
        if joined.get(b"content-type", 0) > MAX_CONTENT_TYPE_BYTES:
            detail = f"The Content-Type is longer than {MAX_CONTENT_TYPE_BYTES} characters."
            return 415, "Unsupported Media Type", detail, {}
        if b"transfer-encoding" in present:
            if b"content-length" in present:
                detail = "The request has both Transfer-Encoding and Content-Length."
                return 400, "Bad Request", detail, dict(_CLOSE)
            coding = b"".join(v for n, v in headers if n == b"transfer-encoding")
            if coding.strip().lower() != b"chunked":
                detail = "The only transfer coding accepted is chunked."
                return 501, "Not Implemented", detail, dict(_CLOSE)
        return None

    def _path(self, scope: Scope) -> Refusal | None:
        # As received: "/currencies/%2F" is RequestGuard's (an encoded slash), not a trailing one.
        path = raw_path(scope).decode("latin-1")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if len(path) > 1 and path.endswith("/") and not path.startswith(SWAGGER_UI_PATH):
            return 404, "Not Found", "No resource has this path (mind the trailing slash).", {}
        return None
