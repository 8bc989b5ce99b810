"""Structured JSON logs: one JSON object per line, and one access-log line per request.

The standard library's ``logging`` with a small JSON formatter, not Powertools Logger:
``logging`` and ``json`` are loaded anyway (Connexion imports them), so this module adds
well under a millisecond to a cold start, where ``aws_lambda_powertools.logging`` measured
17-76 ms here (docs/reliability.md). The access line carries what Powertools would inject
(the Lambda and API Gateway request ids) and no more.

What is never logged: tokens, the ``Authorization`` header, request bodies, query strings,
stack traces. Third-party loggers are held at WARNING or above whatever ``LOG_LEVEL`` says,
because at DEBUG botocore logs request payloads and at INFO Connexion logs the offending
value of a failed body validation.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from connexion.decorators.parameter import inspect_function_arguments
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.security import SecurityAPI, SecurityMiddleware, SecurityOperation
from connexion.operations import AbstractOperation
from connexion.security import NO_VALUE
from connexion.utils import get_function_from_name
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from currency_api.problems import UNEXPECTED, error_place, send_problem

#: Logger of the access lines.
ACCESS_LOGGER: Final = "currency_api.access"
#: Response header that echoes the request id.
REQUEST_ID_HEADER: Final = "X-Request-Id"
#: Where currency_api.edge.Edge keeps the request's AccessRecord in the ASGI scope. Connexion
#: copies the scope on the way in (routing, Swagger UI), so inner layers write to the shared
#: record.
SCOPE_KEY: Final = "currency_api.access"
#: Loggers of libraries: never below WARNING (they log payloads and values at DEBUG / INFO).
QUIET_LOGGERS: Final = (
    "botocore",
    "boto3",
    "urllib3",
    "s3transfer",
    "connexion",
    "jwt",
    "mangum",  # its per-request line would duplicate the access log
)

# Attributes every LogRecord has; anything else on a record came through ``extra=``.
_STANDARD_ATTRIBUTES: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}  # uvicorn's copy of the message with ANSI colours
)

logger = logging.getLogger(ACCESS_LOGGER)
_errors = logging.getLogger(__name__)


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: ``time`` (RFC 3339, UTC, ms), ``level``, ``logger``,
    ``message`` and every ``extra=`` field. An exception contributes only its type
    (``error``): never a traceback, which can hold request data. With ``pid``, also the
    process id (``pid``), which tells the worker processes of one server apart."""

    def __init__(self, *, pid: bool = False) -> None:
        super().__init__()
        self.pid = pid

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.pid:
            entry["pid"] = record.process
        entry.update(
            {
                key: value
                for key, value in vars(record).items()
                if key not in _STANDARD_ATTRIBUTES and key[:1] != "_"
            }
        )
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return _ENCODER.encode(entry)


#: ``json.dumps(entry, ensure_ascii=False, default=str)``, without building an encoder per call.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", *, pid: bool = False) -> None:
    """Format every log record as a JSON line, at ``level`` (a logging level name).

    The root logger's handlers keep their destination and get :class:`JsonFormatter` (on
    Lambda that is the runtime's handler, which frames each record for CloudWatch Logs);
    without any, a stdout handler is added (the local server). Called by the entry points
    (Lambda, ``currency-api serve``), not by create_app. ``pid`` adds the process id to each
    line (``serve --aws``, whose workers share one output).

    Records skip what no line shows (the logging HOWTO's "Optimization" switches): the
    caller's file and line (``logging._srcfile = None``, no stack walk per record), the
    thread, multiprocessing and asyncio task names, and the process id unless ``pid``.
    Every request writes an access line, so this is paid per request (a JSON access line
    to a StringIO, alone: 54 -> 22 us here).
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # Python 3.12+
    logging.logProcesses = pid
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stdout))
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter(pid=pid))
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    quiet_loggers(root.level)


def quiet_loggers(level: int) -> None:
    """Hold the libraries' loggers at WARNING or above, without Connexion's line per 4xx."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    exceptions = logging.getLogger(CONNEXION_EXCEPTIONS_LOGGER)
    if not any(isinstance(f, ClientErrorEcho) for f in exceptions.filters):
        exceptions.addFilter(ClientErrorEcho())


#: Connexion 3.3's ExceptionMiddleware logs every problem it renders here: ``%r`` of the
#: exception, at WARNING for a 4xx and ERROR for a 5xx (``problem_handler``, ``http_exception``).
CONNEXION_EXCEPTIONS_LOGGER: Final = "connexion.middleware.exceptions"


class ClientErrorEcho(logging.Filter):
    """Drops Connexion's WARNING for each 4xx: the access line already reports it, once, at
    INFO, and the repr can echo caller input. Its ERROR lines (5xx) and anything else pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and record.msg == "%r")


@dataclass(slots=True)
class AccessRecord:
    """What the access line says about one request; inner layers fill in route and subject."""

    request_id: str
    method: str
    aws_request_id: str | None = None
    route: str | None = None
    subject: str | None = None
    #: The matched spec operation (metrics only: the line names the route).
    operation_id: str | None = None
    #: Whether the token was answered from the verified-token cache; None when no token was
    #: verified (metrics only).
    token_cache_hit: bool | None = None


def request_ids(scope: Scope) -> tuple[str, str | None]:
    """The request's id and Lambda's ``aws_request_id`` (None off Lambda).

    The id is API Gateway's ``requestContext.requestId`` (the id in its access logs and in
    the ``apigw-requestid`` header) when on Lambda (Mangum puts the event and context in the
    scope); otherwise Lambda's ``aws_request_id``, or a new random id. A caller's own
    ``X-Request-Id`` is not trusted: it would let callers write into the logs."""
    event = scope.get("aws.event")
    context = scope.get("aws.context")
    aws_request_id = getattr(context, "aws_request_id", None)
    aws_request_id = aws_request_id if isinstance(aws_request_id, str) else None
    gateway_id: Any = None
    if isinstance(event, dict):
        request_context = event.get("requestContext")
        if isinstance(request_context, dict):
            gateway_id = request_context.get("requestId")
    if isinstance(gateway_id, str) and gateway_id:
        return gateway_id, aws_request_id
    return aws_request_id or uuid.uuid4().hex, aws_request_id


def log_access(record: AccessRecord, status: int, latency_ms: float) -> None:
    """Write the access line of one answered request (at INFO, on :data:`ACCESS_LOGGER`).

    Fields: ``request_id``, ``aws_request_id`` (Lambda only), ``method``, ``route`` (the
    spec's path template, e.g. ``/currencies/{code}``; null when no operation matched),
    ``status``, ``latency_ms`` (float, milliseconds), ``subject`` (the token's ``sub``; null
    when anonymous or refused). currency_api.edge.Edge writes one per HTTP request.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info(
        "request",
        extra={
            "request_id": record.request_id,
            "aws_request_id": record.aws_request_id,
            "method": record.method,
            "route": record.route,
            "status": status,
            "latency_ms": latency_ms,
            "subject": record.subject,
        },
    )


def log_unhandled(exc: BaseException) -> None:
    """The error line of an exception that escaped every handler: its type and place (file
    and line, currency_api.problems.error_place), never a traceback, which can hold request
    data."""
    _errors.error("unhandled %s at %s", type(exc).__name__, error_place(exc))


async def send_internal_error(send: Send, request_id: str) -> None:
    """A 500 problem, with ``nosniff`` and ``X-Request-Id``, for an exception that escaped
    every handler before anything was sent."""
    await send_problem(
        send,
        500,
        "Internal Server Error",
        UNEXPECTED,
        {"x-content-type-options": "nosniff", REQUEST_ID_HEADER: request_id},
    )


def _subject(scope: Scope) -> str | None:
    from currency_api.auth import _PRINCIPAL_KEY

    cached = scope.get(_PRINCIPAL_KEY)
    subject = getattr(cached[1], "subject", None) if isinstance(cached, tuple) else None
    return subject if isinstance(subject, str) else None


def spec_operation_id(operation: AbstractOperation) -> str | None:
    """The ``operationId`` the spec gives ``operation``.

    Connexion's ``operation_id`` is the resolved one: ``{x-openapi-router-controller}.{id}``
    when the spec names a controller (connexion.resolver.Resolver.resolve_operation_id);
    this undoes exactly that join.
    """
    resolved = operation.operation_id
    controller = operation.router_controller
    if not isinstance(resolved, str):
        return None
    if isinstance(controller, str) and resolved.startswith(controller + "."):
        return resolved[len(controller) + 1 :]
    return resolved


class RecordingSecurityOperation(SecurityOperation):  # type: ignore[misc]
    """Connexion's security check of one operation, which first tells the access log which
    spec operation the request matched (path template, operationId: so a 401 or 403 is
    logged with its route) and, after the inner layers ran, the caller's subject.

    One layer for both (issue 12: each ASGI layer is paid on every request); it was a routed
    middleware of its own right before security.

    Where the operation's first security alternative is a single HTTP bearer scheme, a
    request whose ``Authorization`` is a bearer token that scheme's ``x-bearerInfoFunc``
    accepts is let through as Connexion would let it through (the first alternative that
    succeeds wins; the same ``user`` and ``token_info`` in the request context) without its
    generic walk over every alternative; any other request (no or another credential, a
    refused token, an error) takes Connexion's own check unchanged, so every refusal is its.
    """

    route: str = "/"
    spec_operation_id: str | None = None

    @functools.cached_property
    def _bearer_first(self) -> Callable[..., Any] | None:
        """The first alternative's ``x-bearerInfoFunc`` if that alternative is one HTTP
        bearer scheme and the function takes ``(token, request)``; else None."""
        if not self.security or len(self.security[0]) != 1:
            return None
        (name,) = self.security[0]
        scheme = self.security_schemes.get(name) or {}
        is_bearer = (
            scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
        )
        function_name = scheme.get("x-bearerInfoFunc")
        if not is_bearer or not isinstance(function_name, str):
            return None
        function: Callable[..., Any] = get_function_from_name(function_name)
        arguments, has_kwargs = inspect_function_arguments(function)
        if has_kwargs or arguments[:2] != ["token", "request"] or len(arguments) != 2:
            return None
        if asyncio.iscoroutinefunction(function):
            return None
        return function

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        record = scope.get(SCOPE_KEY)
        if isinstance(record, AccessRecord):
            record.route = self.route
            record.operation_id = self.spec_operation_id
        try:
            if not self._passes_bearer_first(scope):
                await super().__call__(scope, receive, send)
                return
            await self.next_app(scope, receive, send)
        finally:
            if isinstance(record, AccessRecord):
                record.subject = _subject(scope)

    def _passes_bearer_first(self, scope: Scope) -> bool:
        """True if the first alternative accepts the request's bearer token (see the class
        docstring); the request context then holds what Connexion's check would put there."""
        function = self._bearer_first
        if function is None:
            return False
        authorization = Headers(scope=scope).get("authorization")
        if not authorization:
            return False
        parts = authorization.split(maxsplit=1)  # as Connexion's get_auth_header_value
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return False
        request = ConnexionRequest(scope)
        try:
            token_info = function(parts[1], request)
        except Exception:  # a refusal (403) or an error: Connexion's check decides and answers
            return False
        if token_info is None or token_info is NO_VALUE or not isinstance(token_info, dict):
            return False
        request.context.update(
            {"user": token_info.get("sub", token_info.get("uid")), "token_info": token_info}
        )
        return True


class _RecordingSecurityAPI(SecurityAPI):  # type: ignore[misc]
    def make_operation(self, operation: Any) -> SecurityOperation:
        """Connexion 3.3.0's ``SecurityAPI.make_operation`` (pinned), with the operation's route
        for the access log; the specification-wide operation (``auth_all_paths``) has none."""
        secured = RecordingSecurityOperation.from_operation(
            operation,
            next_app=self.next_app,
            security_handler_factory=self.security_handler_factory,
        )
        if isinstance(operation, AbstractOperation):
            secured.route = f"{self.base_path}{operation.path}" or "/"
            secured.spec_operation_id = spec_operation_id(operation)
        return secured


class RecordingSecurityMiddleware(SecurityMiddleware):  # type: ignore[misc]
    """Connexion's SecurityMiddleware whose operations also record the route
    (:class:`RecordingSecurityOperation`); ``connexion_extensions.middlewares`` puts it in
    Connexion's place."""

    api_cls = _RecordingSecurityAPI
