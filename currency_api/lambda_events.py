"""Screening of Lambda events before Mangum sees them: a malformed API Gateway event is a 400
problem, never an exception that fails the invocation (API Gateway would answer 500)."""

from __future__ import annotations

import base64
import binascii
import re
from itertools import repeat
from typing import Any, Final

from currency_api.problems import PROBLEM_JSON, problem_body

#: Where :func:`currency_api.lambda_adapter.normalize` leaves the path prefix it took off
#: (``/{stage}`` of a named stage), so answers can name URLs as the caller sees them; read it
#: through :func:`path_prefix`. An event that arrives with this key has it removed first.
PATH_PREFIX: Final = "currencyApi.pathPrefix"
#: A path prefix the app may send back (in a ``Location``, Swagger UI's redirect and page):
#: segments of letters, digits and ``$-_.+!*'()~``, none of them only dots. API Gateway's
#: stage names are ``[A-Za-z0-9_-]`` and its base path mappings ``[A-Za-z0-9$_.+!*'()-]``
#: (API Gateway developer guide, "Stages for HTTP APIs", "API mappings for custom domain
#: names"); anything else comes from an event no gateway sends, and is not echoed.
SAFE_PATH_PREFIX: Final = re.compile(r"(?:/(?!\.{1,2}(?:/|$))[A-Za-z0-9$_.+!*'()~-]+)+")


def path_prefix(event: Any) -> str | None:
    """The path prefix :func:`currency_api.lambda_adapter.normalize` left in ``event``
    (``"/prod"``), or None: none, or one that is not :data:`SAFE_PATH_PREFIX`."""
    prefix = event.get(PATH_PREFIX) if isinstance(event, dict) else None
    return prefix if isinstance(prefix, str) and SAFE_PATH_PREFIX.fullmatch(prefix) else None


#: Keys that mark an event as meant for an HTTP adapter (API Gateway v1/v2, ALB).
_HTTP_MARKERS: Final = ("requestContext", "httpMethod", "routeKey", "rawPath")


class MalformedEvent(ValueError):
    """An HTTP event that no API Gateway would send; the message is safe to show."""


def screen(event: Any) -> Any:
    """Check an event's HTTP shape (payload formats 1.0 and 2.0, API Gateway developer guide,
    "Working with AWS Lambda proxy integrations") and return it, with ``headers: null``
    read as no headers. Events that are not HTTP events pass unchanged.

    Raises:
        MalformedEvent: ``requestContext`` is not an object; a v2.0 event has no
            ``requestContext.http.method``; a v1.0 event has no ``httpMethod`` or ``path``;
            ``headers`` is not an object of strings; ``body`` is not a string;
            ``isBase64Encoded`` is not a JSON boolean (AWS documents it as one: a string
            ``"false"`` would otherwise read as true); a body marked ``isBase64Encoded`` is
            not valid base64.
    """
    if not isinstance(event, dict) or not any(map(event.__contains__, _HTTP_MARKERS)):
        return event
    context = event.get("requestContext")
    if "requestContext" in event and not isinstance(context, dict):
        raise MalformedEvent("requestContext is not an object")
    if event.get("version") == "2.0":
        http = context.get("http") if isinstance(context, dict) else None
        if not isinstance(http, dict) or not isinstance(http.get("method"), str):
            raise MalformedEvent("requestContext.http.method is missing")
    elif "httpMethod" in event and not (
        isinstance(event.get("httpMethod"), str) and isinstance(event.get("path"), str)
    ):
        raise MalformedEvent("httpMethod or path is missing")
    headers = event.get("headers")
    if headers is None and "headers" in event:
        event = {**event, "headers": {}}
    elif headers is not None and not (
        isinstance(headers, dict)
        and all(map(isinstance, headers, repeat(str)))
        and all(map(isinstance, headers.values(), repeat(str)))
    ):
        raise MalformedEvent("headers is not an object of strings")
    if "isBase64Encoded" in event and not isinstance(event["isBase64Encoded"], bool):
        raise MalformedEvent("isBase64Encoded is not a boolean")
    body = event.get("body")
    if body is not None:
        if not isinstance(body, str):
            raise MalformedEvent("body is not a string")
        if event.get("isBase64Encoded"):
            try:
                base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise MalformedEvent("body is marked base64 but is not base64") from None
    return event


def bad_request(detail: str) -> dict[str, Any]:
    """A Lambda proxy result: 400 problem+json (the shape API Gateway maps to an answer)."""
    return {
        "statusCode": 400,
        "headers": {"content-type": PROBLEM_JSON, "x-content-type-options": "nosniff"},
        "body": problem_body(400, "Bad Request", f"Malformed request event: {detail}.").decode(),
        "isBase64Encoded": False,
    }
