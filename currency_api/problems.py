"""Domain exceptions and the one registry that maps them to problem details (RFC 9457)."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

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


class InvalidCursor(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("The cursor was not issued by this API or has been altered.")


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload Too Large"

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


def problem_body(status: int, title: str, detail: str | None = None, **extra: Any) -> bytes:
    """Serialize an RFC 9457 problem object with ``type`` ``about:blank``."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def send_problem(
    send: Any,
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer with a problem+json directly on an ASGI ``send`` (for middlewares that refuse a
    request before Connexion's exception handling sees it)."""
    body = problem_body(status, title, detail)
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def problem_response(
    status: int, title: str, detail: str | None = None, headers: Mapping[str, str] | None = None
) -> ConnexionResponse:
    """A ConnexionResponse carrying a problem+json body."""
    from connexion.lifecycle import ConnexionResponse

    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=problem_body(status, title, detail),
        headers=dict(headers or {}),
    )


def domain_error_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Map any DomainError to its problem; registered once in create_app."""
    assert isinstance(exc, DomainError)
    if exc.status >= 500:
        logger.warning("dependency problem: %s", type(exc).__name__)
    return problem_response(exc.status, exc.title, str(exc), exc.headers())


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
