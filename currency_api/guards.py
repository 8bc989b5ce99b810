"""Defences against hostile input that Connexion and Starlette leave open: request bodies
parsed strictly, a repeated ``Authorization`` header, and CORS refusals as problem+json."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any, Final, NoReturn

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from currency_api.problems import PROBLEM_JSON, problem_body

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
            constant, nesting too deep for the parser (RecursionError), or a number too long
            to convert.
    """
    try:
        text = raw.decode("utf-8")
        if not text:
            return None
        return json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except DuplicateKey as exc:
        raise BadRequestProblem(detail=f"The member '{exc}' appears twice in an object.") from None
    except (ValueError, RecursionError):
        # UnicodeDecodeError and JSONDecodeError are ValueErrors, as is an integer over
        # sys.get_int_max_str_digits() digits.
        raise BadRequestProblem(detail=MALFORMED) from None


class StrictJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """Connexion's JSON body validator with :func:`parse_json` as the parser."""

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        return parse_json(b"".join([chunk async for chunk in stream]))


def validator_map() -> dict[str, Any]:
    """Connexion's ``validator_map`` with the strict parser for every ``*/*json`` body."""
    bodies = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    bodies["*/*json"] = StrictJSONBodyValidator
    return {"body": bodies}


class SingleAuthorization:
    """A request with more than one ``Authorization`` header is a 400 ``invalid_request``.

    RFC 9110 section 5.3 forbids repeating a field that is not a list, and RFC 6750 section
    3.1 names the answer; layers that pick different copies (a gateway the first, the app the
    last) would otherwise authenticate different tokens.
    """

    def __init__(self, app: ASGIApp, realm: str) -> None:
        self.app = app
        self.challenge = f'Bearer realm="{realm}", error="invalid_request"'.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            count = sum(1 for name, _ in scope.get("headers", ()) if name == b"authorization")
            if count > 1:
                body = problem_body(
                    400, "Bad Request", "Send one Authorization header, with one token."
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", self.challenge),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, but a refused preflight is a problem+json 400 with no CORS headers
    (Starlette answers text/plain and still lists the allowed methods and headers)."""

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
