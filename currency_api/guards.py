"""Defences against hostile input that Connexion and Starlette leave open: request bodies
parsed strictly, a repeated ``Authorization`` header, and CORS refusals as problem+json."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, NoReturn

from connexion.exceptions import NonConformingResponse, ProblemException
from connexion.middleware.abstract import ROUTING_CONTEXT
from connexion.validators import JSONRequestBodyValidator
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from currency_api.middleware import AllowFromSpec, ordered_allow
from currency_api.problems import (
    PROBLEM_JSON,
    UNEXPECTED,
    RequestInvalid,
    UnsupportedMediaType,
    Violation,
    domain_response,
    problem_body,
    problem_response,
    send_problem,
    shown,
    status_title,
)
from currency_api.text import TextRuleBroken, normalized

if TYPE_CHECKING:
    from connexion.lifecycle import ConnexionRequest, ConnexionResponse

logger = logging.getLogger(__name__)

#: What a malformed body is told (the parser's own message could echo the body).
MALFORMED: Final = "The request body is not valid JSON text (RFC 8259) in UTF-8."


class DuplicateKey(ValueError):
    """An object in the body names the same member twice."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):  # a name repeats: find the first repeat, in order
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return result


class NotJSONConstant(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in a body: Python's json reads them, JSON has
    no such values (RFC 8259 section 6)."""


def _reject_constant(name: str) -> NoReturn:
    raise NotJSONConstant(name)


def parse_json(raw: bytes) -> Any:
    """Parse a request body strictly.

    RFC 8259: JSON exchanged between systems is UTF-8 (section 8.1), so any ``charset``
    parameter is ignored and other bytes are refused; ``NaN`` and ``Infinity`` are not JSON
    (section 6); object member names SHOULD be unique (section 4) and parsers disagree on
    which duplicate wins, so a duplicate is refused rather than silently resolved.

    Raises:
        RequestInvalid: invalid UTF-8, invalid JSON, a lone surrogate escape or nesting too
            deep for the parser (RecursionError): "not valid JSON text"; a duplicate member, a
            non-JSON constant (``NaN``, ``Infinity``) or an integer longer than
            ``sys.get_int_max_str_digits()`` digits: a detail naming it.
    """
    try:
        text = raw.decode("utf-8")
        if not text:
            return None
        document = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
        # "\ud800" is valid JSON syntax but no Unicode text (RFC 8259 section 8.2): a lone
        # surrogate cannot be stored or sent back as UTF-8. Only a \u escape of D800-DFFF
        # can make one (the UTF-8 decoder above refuses encoded surrogates), and each starts
        # "\ud" or "\uD": only then is it looked for ("\u20ac" for the euro sign is not).
        if "\\ud" in text or "\\uD" in text:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        return document
    except DuplicateKey as exc:
        member = shown(exc)
        raise RequestInvalid(
            [Violation(f"names the member '{member}' twice in one object", pointer="")],
            f"The member '{member}' appears twice in an object.",
        ) from None
    except NotJSONConstant as exc:
        raise RequestInvalid(
            [Violation(f"holds {exc}, which is not a JSON number", pointer="")],
            f"The request body holds {exc}, which JSON does not have (RFC 8259 section 6).",
        ) from None
    except (UnicodeError, json.JSONDecodeError, RecursionError):
        # UnicodeDecodeError, UnicodeEncodeError (a lone surrogate escape), invalid syntax,
        # nesting deeper than the parser goes.
        raise RequestInvalid(
            [Violation("is not valid JSON text in UTF-8", pointer="")], MALFORMED
        ) from None
    except ValueError:
        # The only other ValueError json.loads raises: an integer longer than
        # sys.get_int_max_str_digits() digits (Python's guard against quadratic conversion).
        most = sys.get_int_max_str_digits()
        raise RequestInvalid(
            [Violation(f"holds an integer of more than {most} digits", pointer="")],
            f"The request body holds an integer of more than {most} digits.",
        ) from None


#: The scope key under which :class:`StrictJSONBodyValidator` leaves the body it parsed,
#: normalised and validated; the handler receives that object (no second parse).
BODY_KEY: Final = "currency_api.body"


class StrictJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """Connexion's JSON body validator with :func:`parse_json` as the parser, and text in NFC
    (:func:`currency_api.text.normalized`): the normalised body is validated and is what the
    handler receives, from the scope (:data:`BODY_KEY`). The receive channel replays the
    bytes as sent (Connexion's non-mutating mode), so nothing is serialised again."""

    MUTABLE_VALIDATION = False

    async def _parse(self, stream: AsyncGenerator[bytes], scope: Scope) -> Any:
        return self.parsed(b"".join([chunk async for chunk in stream]), scope)

    def parsed(self, raw: bytes, scope: Scope) -> Any:
        """The body ``raw`` parsed strictly (:func:`parse_json`) and normalised, also left in
        ``scope`` under :data:`BODY_KEY`.

        Raises:
            RequestInvalid: the body is no valid JSON text (see :func:`parse_json`), breaks a
                text rule of currency_api.text, or nests deeper than Python's recursion limit.
        """
        document = parse_json(raw)
        try:
            scope[BODY_KEY] = body = normalized(document)
            return body
        except TextRuleBroken as exc:
            raise RequestInvalid([Violation(exc.detail, pointer=exc.pointer)]) from None
        except RecursionError:
            # Deeper than Python's recursion limit, though the C parser read it.
            raise RequestInvalid(
                [Violation("is not valid JSON text in UTF-8", pointer="")], MALFORMED
            ) from None


class RequestGuard:
    """Refuses, before any other work, requests that no operation can answer safely.

    - More than one ``Authorization`` header: 400 with ``error="invalid_request"``. RFC 9110
      section 5.3 forbids repeating a field that is not a list, and RFC 6750 section 3.1
      names the answer; layers that pick different copies (a gateway the first, the app the
      last) would otherwise authenticate different tokens.
    - An encoded slash (``%2F``) in the path: 400. No path parameter of the spec may hold a
      slash, and decoded it would route to another path (Starlette answers a redirect).
    - A body without ``Content-Type``: 415. RFC 9110 section 8.3 lets a recipient treat it as
      ``application/octet-stream``, which no operation consumes (Connexion would guess JSON,
      validate it, then hand the handler raw bytes: a 500). With ``allow`` (the spec's
      methods per path), only for a method the path takes: any other request is routing's
      to answer (405 with ``Allow``, or 404), whatever its body.
    """

    def __init__(self, app: ASGIApp, realm: str, allow: AllowFromSpec | None = None) -> None:
        self.app = app
        self.challenge = f'Bearer realm="{realm}", error="invalid_request"'
        self.allow = allow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(scope)
            if refusal is not None:
                await send_problem(send, *refusal)
                return
            lower_media_type(scope)
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str, str, dict[str, str]] | None:
        """Why this request is refused (status, title, detail, headers), or None."""
        names = [name for name, _ in scope.get("headers", ())]
        if names.count(b"authorization") > 1:
            detail = "Send one Authorization header, with one token."
            return 400, "Bad Request", detail, {"www-authenticate": self.challenge}
        path = raw_path(scope)
        if b"%" in path and b"%2f" in path.lower():
            return 400, "Bad Request", "The path must not contain an encoded slash (%2F).", {}
        if scope.get("method") in ("POST", "PUT", "PATCH") and b"content-type" not in names:
            headers = Headers(scope=scope)
            has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
            if has_body and self._takes(scope):
                return 415, "Unsupported Media Type", "The body needs a Content-Type.", {}
        return None

    def _takes(self, scope: Scope) -> bool:
        """Whether the spec has an operation for this method at this path (True when no
        ``allow`` was given)."""
        if self.allow is None:
            return True
        found = self.allow.match_scope(scope)
        return found is not None and scope.get("method") in found.methods


def raw_path(scope: Scope) -> bytes:
    """The path as received: uvicorn's ``raw_path``, or on Lambda the event's ``rawPath``
    (Mangum puts only the decoded path in the scope)."""
    raw: Any = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw
    event = scope.get("aws.event")
    raw = event.get("rawPath") if isinstance(event, dict) else None
    return str(raw if isinstance(raw, str) else scope.get("path", "")).encode()


def lower_media_type(scope: Scope) -> None:
    """Lower-case the media type of ``Content-Type`` (RFC 9110 section 8.3.1: type and subtype
    are case-insensitive). Connexion checks the type case-insensitively but picks the body
    validator case-sensitively, so ``Application/JSON`` would skip validation altogether."""
    for name, raw in scope.get("headers", ()):  # noqa: B007 (the value after the loop)
        if name == b"content-type":
            break
    else:
        return
    # As MutableHeaders reads and writes the field: its first line, in latin-1.
    value = raw.decode("latin-1")
    media_type, semicolon, parameters = value.partition(";")
    lowered = media_type.strip().lower()
    if lowered != media_type:
        MutableHeaders(scope=scope)["content-type"] = f"{lowered}{semicolon}{parameters}"


#: Longest ``detail`` taken over from a framework exception, in characters.
MAX_DETAIL: Final = 200

# Framework-raised errors, rendered by the one problem renderer (currency_api.problems). Each
# handler builds its ``detail`` from the exception's type and the request, never from the
# framework's message, which speaks Python (reprs, lists) and may echo a caller's value whole.


def http_exception_handler(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Starlette's ``HTTPException``: routing's 404 (no spec path matches) and 405 (the path
    does not take the method; ``AllowFromSpec`` sets ``Allow``), Swagger UI's static files."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    title = status_title(status)
    path = shown(request.scope.get("path", ""))
    if status == 404:
        detail = f"No resource of this API is at the path {path}."
    elif status == 405:
        method = shown(request.scope.get("method", ""))
        detail = f"The path {path} does not take {method}; the Allow header lists what it takes."
    else:
        detail = _fallback_detail(status)
    headers = dict(exc.headers or {})
    for name, value in headers.items():
        if name.lower() == "allow":  # Swagger UI's and the spec documents' routes
            headers[name] = ordered_allow(value)
    return problem_response(status, title, detail, headers)


def media_type_handler(
    document: Mapping[str, Any],
) -> Callable[[ConnexionRequest, Exception], ConnexionResponse]:
    """The handler of Connexion's ``UnsupportedMediaTypeProblem`` (415): names the media type
    received (shortened) and the ones the operation takes, from the spec ``document``."""
    accepted = _media_types_by_operation(document)

    def handler(request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
        routing = request.scope.get("extensions", {}).get(ROUTING_CONTEXT, {})
        media_types = accepted.get(str(routing.get("operation_id")), ())
        received = request.headers.get("content-type", "").partition(";")[0].strip()
        return domain_response(UnsupportedMediaType(received, media_types or ["JSON"]))

    return handler


def _media_types_by_operation(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """Request media types by operationId, under both names Connexion may route by: the bare
    operationId and the one joined to its ``x-openapi-router-controller``."""
    found: dict[str, list[str]] = {}
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if not isinstance(operation, Mapping) or "operationId" not in operation:
                continue
            content = list((operation.get("requestBody") or {}).get("content") or {})
            operation_id = str(operation["operationId"])
            found[operation_id] = content
            controller = operation.get("x-openapi-router-controller")
            if controller:
                found[f"{controller}.{operation_id}"] = content
    return found


def problem_exception_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Any other Connexion ``ProblemException``. A response that breaks the spec (response
    validation, on in tests) is a bug: 500, the schema's complaint only in the log."""
    assert isinstance(exc, ProblemException)
    if isinstance(exc, NonConformingResponse):
        logger.error("response breaks the spec: %s", shown(exc.detail, MAX_DETAIL))
        return problem_response(500, "Internal Server Error", RESPONSE_BREAKS_SPEC)
    status = int(exc.status)
    title = str(exc.title or status_title(status))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if status >= 500:
        logger.error("%s %s", status, type(exc).__name__)
        detail = UNEXPECTED
    return problem_response(
        status, title, shown(detail or _fallback_detail(status), MAX_DETAIL), exc.headers
    )


#: The ``detail`` of a 500 from response validation.
RESPONSE_BREAKS_SPEC: Final = "The server met an unexpected error: its answer broke the API's spec."


def _fallback_detail(status: int) -> str:
    if status >= 500:
        return UNEXPECTED
    return "The request cannot be answered as it is."


def bad_request_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A ``BadRequestProblem`` raised outside our validators (they raise RequestInvalid), with
    its ``detail`` cut to its first line and :data:`MAX_DETAIL` characters."""
    detail = str(getattr(exc, "detail", None) or "The request does not match the API.")
    return problem_response(400, "Bad Request", shown(detail.split("\n", 1)[0], MAX_DETAIL))


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, but nothing CORS for an origin that is not allowed: a refused
    preflight is a problem+json 400 with no CORS headers (Starlette answers text/plain and
    still lists the allowed methods and headers), and other answers to such an origin carry
    only ``Vary: Origin`` (Starlette adds ``Access-Control-Expose-Headers``)."""

    async def simple_response(
        self, scope: Scope, receive: Receive, send: Send, request_headers: Headers
    ) -> None:
        origin = request_headers.get("origin")
        if origin is None or self.is_allowed_origin(origin):
            await super().simple_response(scope, receive, send, request_headers)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_vary)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        return Response(
            problem_body(400, "Bad Request", "This cross-origin request is not allowed."),
            status_code=400,
            media_type=PROBLEM_JSON,
            headers={"Vary": "Origin"},
        )
