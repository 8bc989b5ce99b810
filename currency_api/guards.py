"""Defences against hostile input that Connexion and Starlette leave open: request bodies
parsed strictly, a repeated ``Authorization`` header, and CORS refusals as problem+json."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, Final, NoReturn

from connexion.exceptions import BadRequestProblem
from connexion.validators import JSONRequestBodyValidator
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from currency_api import text
from currency_api.problems import PROBLEM_JSON, problem_body, problem_response, send_problem

if TYPE_CHECKING:
    from connexion.lifecycle import ConnexionRequest, ConnexionResponse

#: What a malformed body is told (the parser's own message could echo the body).
MALFORMED: Final = "The request body is not valid JSON text (RFC 8259) in UTF-8."


class DuplicateKey(ValueError):
    """An object in the body names the same member twice."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Parse a request body strictly.

    RFC 8259: JSON exchanged between systems is UTF-8 (section 8.1), so any ``charset``
    parameter is ignored and other bytes are refused; ``NaN`` and ``Infinity`` are not JSON
    (section 6); object member names SHOULD be unique (section 4) and parsers disagree on
    which duplicate wins, so a duplicate is refused rather than silently resolved.

    Raises:
        BadRequestProblem: invalid UTF-8, invalid JSON, a duplicate member, a non-JSON
            constant, a lone surrogate escape, nesting too deep for the parser
            (RecursionError), or a number too long to convert.
    """
    try:
        text = raw.decode("utf-8")
        if not text:
            return None
        document = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
        # "\ud800" is valid JSON syntax but no Unicode text (RFC 8259 section 8.2): a lone
        # surrogate cannot be stored or sent back as UTF-8.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
        return document
    except DuplicateKey as exc:
        raise BadRequestProblem(detail=f"The member '{exc}' appears twice in an object.") from None
    except (ValueError, RecursionError):
        # UnicodeDecodeError, UnicodeEncodeError (a lone surrogate) and JSONDecodeError are
        # ValueErrors, as is an integer over sys.get_int_max_str_digits() digits.
        raise BadRequestProblem(detail=MALFORMED) from None


class StrictJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """Connexion's JSON body validator with :func:`parse_json` as the parser, and text in NFC
    (:func:`currency_api.text.normalized`): the normalised body is validated and, replayed
    (``MUTABLE_VALIDATION``), is what the handler receives."""

    MUTABLE_VALIDATION = True

    async def _parse(self, stream: AsyncGenerator[bytes], scope: Scope) -> Any:
        document = parse_json(b"".join([chunk async for chunk in stream]))
        try:
            return text.normalized(document)
        except text.TextRuleBroken as exc:
            raise BadRequestProblem(detail=str(exc)) from None
        except RecursionError:
            # Deeper than Python's recursion limit, though the C parser read it.
            raise BadRequestProblem(detail=MALFORMED) from None


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
      validate it, then hand the handler raw bytes: a 500).
    """

    def __init__(self, app: ASGIApp, realm: str) -> None:
        self.app = app
        self.challenge = f'Bearer realm="{realm}", error="invalid_request"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                status, title, detail, headers = refusal
                await send_problem(send, status, title, detail, headers)
                return
            _lower_media_type(scope)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, dict[str, str]] | None:
        names = [name for name, _ in scope.get("headers", ())]
        if names.count(b"authorization") > 1:
            detail = "Send one Authorization header, with one token."
            return 400, "Bad Request", detail, {"www-authenticate": self.challenge}
        if b"%2f" in raw_path(scope).lower():
            return 400, "Bad Request", "The path must not contain an encoded slash (%2F).", {}
        if scope.get("method") in ("POST", "PUT", "PATCH") and b"content-type" not in names:
            headers = Headers(scope=scope)
            if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
                return 415, "Unsupported Media Type", "The body needs a Content-Type.", {}
        return None


def raw_path(scope: Scope) -> bytes:
    """The path as received: uvicorn's ``raw_path``, or on Lambda the event's ``rawPath``
    (Mangum puts only the decoded path in the scope)."""
    raw: Any = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw
    event = scope.get("aws.event")
    raw = event.get("rawPath") if isinstance(event, dict) else None
    return str(raw if isinstance(raw, str) else scope.get("path", "")).encode()


def _lower_media_type(scope: Scope) -> None:
    """Lower-case the media type of ``Content-Type`` (RFC 9110 section 8.3.1: type and subtype
    are case-insensitive). Connexion checks the type case-insensitively but picks the body
    validator case-sensitively, so ``Application/JSON`` would skip validation altogether."""
    headers = MutableHeaders(scope=scope)
    value = headers.get("content-type")
    if value is None:
        return
    media_type, semicolon, parameters = value.partition(";")
    lowered = media_type.strip().lower()
    if lowered != media_type:
        headers["content-type"] = f"{lowered}{semicolon}{parameters}"


#: Longest ``detail`` of a 400 from request validation, in characters.
MAX_DETAIL: Final = 200


def bad_request_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion's request-validation 400, with a short ``detail``.

    Connexion's detail holds the failing schema and the whole offending value (a 10 KB path
    segment comes back whole): keep the first line, at most :data:`MAX_DETAIL` characters.
    """
    detail = str(getattr(exc, "detail", None) or "The request does not match the API.")
    detail = detail.split("\n", 1)[0]
    if len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 1] + "…"
    return problem_response(400, "Bad Request", detail)


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
