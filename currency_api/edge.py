"""The two ASGI layers create_app puts around Connexion's stack: :class:`Edge` outermost,
then (CORS between them, where configured) :class:`Gate`.

They were eight layers, one per concern (issue 12: each layer, and each send wrapper, is
paid on every request): the access log, the response headers, the Swagger UI policy, the
input bounds, the request guard, the spec document cache, the body limit and the documents'
servers. The concerns keep their modules (currency_api.logs, bounds, guards, middleware,
spec_cache, served_spec, swagger_csp); these two layers run them in the order they ran:

- :class:`Edge`: the access line and EMF record, ``X-Request-Id``, the headers every answer
  gets (``ResponseHeaders``'s), the app's long-lived objects put into the scope, and the last
  resort for an exception that escaped every handler. Connexion's own last resort
  (``ServerErrorMiddleware``, which would log the traceback) is left out of the stack:
  nothing escapes this layer.
- :class:`Gate`: the input bounds' and request guard's refusals, the media type lowered,
  and the body limit. Requests for the spec documents and for Swagger UI take the layers of
  those concerns as they were (bounds, guard, document cache, body limit, servers; the UI
  policy around them all), so their answers are unchanged; any other request skips the
  layers that only pass it on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from currency_api.bounds import Bounds, InputBounds
from currency_api.guards import RequestGuard, lower_media_type, raw_path
from currency_api.lambda_events import path_prefix
from currency_api.logs import (
    REQUEST_ID_HEADER,
    SCOPE_KEY,
    AccessRecord,
    log_access,
    log_unhandled,
    request_ids,
    send_internal_error,
)
from currency_api.middleware import AllowFromSpec, BodyLimit
from currency_api.problems import send_problem, shown
from currency_api.served_spec import SpecServers
from currency_api.spec_cache import SPEC_PATHS, SpecDocumentCache
from currency_api.swagger_csp import UI_PATH, SwaggerUIPolicy

if TYPE_CHECKING:
    from currency_api.metrics import RequestMetrics

#: ``X-Request-Id`` as an ASGI header line names it.
_REQUEST_ID_NAME: Final = REQUEST_ID_HEADER.lower().encode()


class Edge:
    """One access line per HTTP request (currency_api.logs), its EMF record (``metrics``),
    ``X-Request-Id`` on every response, and what every answer gets:

    - the app's long-lived objects (``values``: services, authenticator, ...) in every HTTP
      scope;
    - ``X-Content-Type-Options: nosniff``; no ``Content-Type`` on 204 and 304 (no content, so
      no media type; Connexion adds one anyway, and on Lambda so does Mangum, after the app:
      currency_api.lambda_adapter removes that one); ``Cache-Control: no-store`` on answers
      to authenticated requests unless the response already set a policy;
    - on a 405, ``Allow`` from the spec (:class:`currency_api.middleware.AllowFromSpec`), and
      the spec path the request matched as the access line's ``route`` (routing refuses the
      method before any operation records it).

    An exception that escapes the layers inside: a 500 problem (if nothing was sent yet) and
    an error line naming the exception's type and place, never a traceback.

    Args:
        document: the spec document (the 405's ``Allow``).
        values: put into every HTTP scope.
        metrics: where each request's CloudWatch EMF record goes; None writes none.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        document: Mapping[str, Any],
        values: Mapping[str, Any],
        metrics: RequestMetrics | None = None,
    ) -> None:
        self.app = app
        self.values = dict(values)
        self.allow = AllowFromSpec(document)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id, aws_request_id = request_ids(scope)
        record = AccessRecord(request_id, shown(scope.get("method", ""), 16), aws_request_id)
        scope[SCOPE_KEY] = record
        scope.update(self.values)
        # Connexion's routing hands a shallow copy of the scope on and records the matched
        # operation in its "extensions" (ASGI: optional; Starlette's TestClient sends one,
        # uvicorn and Mangum none): only a dict the copy shares with this scope carries it
        # back to the exception handlers outside routing (the 415's accepted media types).
        if "extensions" not in scope:
            scope["extensions"] = {}
        authenticated = b"authorization" in [name for name, _ in scope.get("headers", ())]
        status = 500
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                allowed = None
                if status == 405:  # routing refused the method: no operation named the route
                    found = self.allow.match_scope(scope)
                    if found is not None:
                        record.route = record.route or found.template
                        allowed = found.allow
                message["headers"] = self._answer_headers(
                    message.get("headers", ()), status, authenticated, request_id, allowed
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            log_unhandled(exc)
            if not started:
                await send_internal_error(send, request_id)
            status = 500
        finally:
            latency_ms = round((time.perf_counter() - start) * 1000, 3)
            log_access(record, status, latency_ms)
            if self.metrics is not None:
                self.metrics.record(
                    operation_id=record.operation_id,
                    status=status,
                    latency_ms=latency_ms,
                    token_cache_hit=record.token_cache_hit,
                )

    def _answer_headers(
        self,
        raw: Iterable[tuple[bytes, bytes]],
        status: int,
        authenticated: bool,
        request_id: str,
        allowed: str | None,
    ) -> list[tuple[bytes, bytes]]:
        """The answer's raw header lines with what every answer gets (see the class
        docstring), in one pass where Starlette's ``MutableHeaders`` scans the lines once per
        change: the same result (a name it would set replaces that name's lines, first place
        kept; a name it would default is left alone if present). Names in ASGI header lines
        are lower case (the ASGI HTTP spec), as ``MutableHeaders`` also assumes."""
        headers = list(raw)
        names = {name for name, _ in headers}
        if b"x-content-type-options" not in names:
            headers.append((b"x-content-type-options", b"nosniff"))
        if status in (204, 304) and b"content-type" in names:
            headers = [line for line in headers if line[0] != b"content-type"]
        if authenticated and b"cache-control" not in names:
            headers.append((b"cache-control", b"no-store"))
        if status == 405 and allowed:
            _set_field(headers, names, b"allow", allowed)
        _set_field(headers, names, _REQUEST_ID_NAME, request_id)
        return headers


def _set_field(
    headers: list[tuple[bytes, bytes]], names: set[bytes], name: bytes, value: str
) -> None:
    """``MutableHeaders.__setitem__`` on raw lines: the first line of ``name`` (lower case)
    takes ``value`` (latin-1), any further lines of it go; appended if there is none."""
    line = (name, value.encode("latin-1"))
    if name not in names:
        headers.append(line)
        return
    first = next(i for i, (n, _) in enumerate(headers) if n == name)
    headers[first + 1 :] = [h for h in headers[first + 1 :] if h[0] != name]
    headers[first] = line


class Gate:
    """Refuses what no operation can answer safely, bounds the body, and sends the spec
    documents' and Swagger UI's requests through the layers that answer them.

    - :meth:`currency_api.bounds.InputBounds.refusal`, then
      :meth:`currency_api.guards.RequestGuard.refusal`: a problem answer, nothing else runs;
    - the ``Content-Type`` media type in lower case (:func:`currency_api.guards.lower_media_type`);
    - :class:`currency_api.middleware.BodyLimit` for a request with a body.

    A request for :data:`currency_api.spec_cache.SPEC_PATHS` or under
    :data:`currency_api.swagger_csp.UI_PATH` takes the layers as create_app stacked them
    before they were folded: ``SwaggerUIPolicy(InputBounds(RequestGuard(SpecDocumentCache(
    BodyLimit(SpecServers(app))))))``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        document: Mapping[str, Any],
        bounds: Bounds,
        realm: str,
        max_body_bytes: int,
        public_url: str | None = None,
    ) -> None:
        self.app = app
        self.bounds = InputBounds(app, bounds)
        self.guard = RequestGuard(app, realm, AllowFromSpec(document))
        self.body_limit = BodyLimit(app, max_body_bytes)
        self.documents: ASGIApp = SwaggerUIPolicy(
            InputBounds(
                RequestGuard(
                    SpecDocumentCache(
                        BodyLimit(SpecServers(app, document, public_url), max_body_bytes)
                    ),
                    realm,
                ),
                bounds,
            ),
            document,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root = scope.get("root_path", "")
        below = path[len(root) :] if root and path.startswith(root) else path
        if below in SPEC_PATHS or path in SPEC_PATHS:
            await self.documents(scope, receive, send)
            return
        if below == UI_PATH or below.startswith(UI_PATH + "/"):
            await self.documents(_under_stage(scope), receive, send)
            return
        refusal = self.bounds.refusal(scope) or self.guard.refusal(scope)
        if refusal is not None:
            await send_problem(send, *refusal)
            return
        lower_media_type(scope)
        await self.body_limit(scope, receive, send)


def _under_stage(scope: Scope) -> Scope:
    """``scope`` as Swagger UI must see it on Lambda behind a named API Gateway stage: the stage
    prefix the adapter took off (``/prod``, :func:`lambda_events.path_prefix`) as the mount
    point, ``root_path``, and in front of ``path``, as ASGI describes an app mounted below a
    path (ASGI HTTP scope: ``path`` includes ``root_path``). Swagger UI's redirect of ``/ui``
    and its page's spec URL are made from ``root_path``, so they keep the stage; without a
    prefix (uvicorn, the ``$default`` stage) ``scope`` is returned as it is. The prefix is one
    :data:`lambda_events.SAFE_PATH_PREFIX` allows (ASCII, no ``%``, no dot segments).
    """
    prefix = path_prefix(scope.get("aws.event"))
    if prefix is None:
        return scope
    return {
        **scope,
        "root_path": prefix + scope.get("root_path", ""),
        "path": prefix + scope["path"],
        # The path as received, with the prefix too (as uvicorn gives it under a root_path):
        # what removes root_path from one must find it in the other.
        "raw_path": prefix.encode() + raw_path(scope),
    }
