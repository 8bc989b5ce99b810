"""Domain exceptions and the one registry that maps them to problem details (RFC 9457)."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

if TYPE_CHECKING:
    # The exceptions need no web framework (bench/ reuses them); responses import it late.
    from connexion.lifecycle import ConnexionRequest, ConnexionResponse

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of every error a handler or the store raises on purpose.

    Subclasses set ``status`` and ``title``; the message is the problem's ``detail`` and
    must be safe to show to the caller.
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def headers(self) -> dict[str, str]:
        """Extra response headers for this problem."""
        return {}

    def extensions(self) -> dict[str, Any]:
        """Extension members of the problem (RFC 9457 section 3.2), after the standard ones."""
        return {}


class CurrencyNotFound(DomainError):
    status = 404
    title = "Not Found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No currency has the code '{code}'.")


class CurrencyExists(DomainError):
    status = 409
    title = "Conflict"

    def __init__(self, code: str) -> None:
        super().__init__(f"A currency with the code '{code}' exists already.")


class NumericCodeTaken(DomainError):
    """Another currency holds the ISO 4217 numeric code (each belongs to one currency)."""

    status = 409
    title = "Conflict"

    def __init__(self, numeric_code: str, holder: str) -> None:
        super().__init__(
            f"The numeric code '{numeric_code}' belongs to the currency '{holder}' already."
        )
        self.numeric_code = numeric_code
        self.holder = holder


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition Failed"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"The currency '{code}' does not match If-Match; read it again for its current ETag."
        )


class WriteConflict(DomainError):
    """Other writers changed the currency during every attempt of an unconditional write."""

    status = 409
    title = "Conflict"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"The currency '{code}' kept changing while this request wrote it; try again."
        )


class InvalidRequest(DomainError):
    """A request the schema accepts but the operation cannot (for example a code mismatch)."""

    status = 400
    title = "Bad Request"


#: Longest echo of a caller's value (a header, a parameter, a member name) in a problem or a
#: log line, in characters: enough to recognise it, too short to reflect a payload.
MAX_ECHO: Final = 64


def shown(value: object, limit: int = MAX_ECHO) -> str:
    """``value`` as text, cut to ``limit`` characters (the last one then ``…``): every caller
    value a problem or a log line repeats goes through this."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


Location = Literal["query", "path", "header"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request breaks the contract: a member of the body (``pointer``, a JSON
    Pointer, RFC 6901) or a parameter (``parameter`` and ``location``), and what is wrong
    (``detail``, for example ``must be at least 1``). Rendered as the spec's ``Violation``."""

    detail: str
    pointer: str | None = None
    parameter: str | None = None
    location: Location | None = None

    def as_json(self) -> dict[str, str]:
        """The spec's ``Violation`` object, members in its order."""
        member: dict[str, str] = {}
        if self.pointer is not None:
            member["pointer"] = self.pointer
        if self.parameter is not None:
            member["parameter"] = self.parameter
            if self.location is not None:
                member["in"] = self.location
        member["detail"] = self.detail
        return member

    def sentence(self) -> str:
        """The violation as a sentence: ``The query parameter 'limit' must be at least 1.``"""
        if self.parameter is not None:
            kind = "header" if self.location == "header" else f"{self.location} parameter"
            subject = f"The {kind} '{self.parameter}'"
        elif self.pointer:
            subject = f"The body member {self.pointer}"
        else:
            subject = "The request body"
        return f"{subject} {self.detail}."


class RequestInvalid(InvalidRequest):
    """The request breaks the spec: one or more :class:`Violation`, in the order found.

    The problem's ``detail`` is the first violation as a sentence (or ``detail``), and its
    ``errors`` extension member lists them all.
    """

    def __init__(self, violations: Sequence[Violation], detail: str | None = None) -> None:
        if not violations:
            raise ValueError("a RequestInvalid needs at least one violation")
        self.violations = tuple(violations)
        text = detail or self.violations[0].sentence()
        if detail is None and len(self.violations) > 1:
            text = f"{text[:-1]}; {len(self.violations) - 1} more in errors."
        super().__init__(text)

    def extensions(self) -> dict[str, Any]:
        return {"errors": [violation.as_json() for violation in self.violations]}


class UnsupportedMediaType(DomainError):
    """The body's media type is not one the operation takes (RFC 9110 section 15.5.16)."""

    status = 415
    title = "Unsupported Media Type"

    def __init__(self, received: str | None, accepted: Sequence[str]) -> None:
        wanted = " or ".join(accepted)
        if received:
            detail = f"The media type '{shown(received)}' is not accepted; send {wanted}."
        else:
            detail = f"The body needs a Content-Type: send {wanted}."
        super().__init__(detail)
        self.violation = Violation(f"must be {wanted}", parameter="Content-Type", location="header")

    def extensions(self) -> dict[str, Any]:
        return {"errors": [self.violation.as_json()]}


class UnknownCursor(DomainError):
    """A cursor of the right form that this API did not issue (or that was altered, or signed
    with a key since rotated): the page it names does not exist."""

    status = 404
    title = "Not Found"

    def __init__(self) -> None:
        super().__init__("No page starts at this cursor; list again from the first page.")


class PayloadTooLarge(DomainError):
    status = 413
    title = "Content Too Large"  # RFC 9110 section 15.5.14 (RFC 7231 said "Payload")

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than {limit} bytes.")


class DependencyUnavailable(DomainError):
    """A dependency (DynamoDB, the JWKS endpoint) is down, throttling or timing out."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, what: str, retry_after_seconds: int = 1) -> None:
        super().__init__(f"The {what} is not available; try again later.")
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


def problem_body(
    status: int,
    title: str,
    detail: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> bytes:
    """The one serialization of every problem the API sends (RFC 9457).

    Members in the order ``type`` (always ``about:blank``: the status says it all), ``title``,
    ``status``, ``detail``, then the extension members (``errors``); compact JSON in UTF-8
    (``ensure_ascii=False``).
    """
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extensions or {})
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def status_title(status: int) -> str:
    """The reason phrase of an HTTP status as a problem's ``title`` (``"Not Found"``), from
    Python's ``HTTPStatus`` (RFC 9110's phrases); ``"Error"`` for a status it does not name."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def send_problem(
    send: Any,
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> None:
    """Answer with a problem+json directly on an ASGI ``send`` (for middlewares that refuse a
    request before Connexion's exception handling sees it)."""
    body = problem_body(status, title, detail, extensions)
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> ConnexionResponse:
    """A ConnexionResponse carrying a problem+json body (:func:`problem_body`), with its
    ``Content-Type`` set: operations that declare ``application/json`` too would otherwise
    fail Connexion's response check."""
    from connexion.lifecycle import ConnexionResponse

    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=problem_body(status, title, detail, extensions),
        headers=dict(headers or {}),
    )


def domain_response(exc: DomainError) -> ConnexionResponse:
    """The problem of a DomainError: its status, title, message as ``detail``, headers and
    extension members."""
    return problem_response(exc.status, exc.title, str(exc), exc.headers(), exc.extensions())


def domain_error_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Map any DomainError to its problem; registered once in create_app."""
    assert isinstance(exc, DomainError)
    if exc.status >= 500:
        logger.warning("dependency problem: %s", type(exc).__name__)
    return domain_response(exc)


#: The ``detail`` of every 500: a bug, and nothing of it is disclosed.
UNEXPECTED: Final = "The server met an unexpected error."


def error_place(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of an exception's traceback (for logs: no
    traceback, no values), or ``?``."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def unexpected_error_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Any other exception is a bug: 500 with no internals; the log names the type and place."""
    logger.error("unexpected error %s at %s", type(exc).__name__, error_place(exc))
    return problem_response(500, "Internal Server Error", UNEXPECTED)
