"""create_app: the one composition root for Lambda, the local server and the tests."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from connexion import AsyncApp
from connexion.exceptions import (
    BadRequestProblem,
    OAuthProblem,
    OAuthResponseProblem,
    OAuthScopeProblem,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.spec import OpenAPISpecification
from connexion.utils import get_function_from_name
from starlette.exceptions import HTTPException

from currency_api import (
    auth,
    bounds,
    connexion_extensions,
    edge,
    guards,
    problems,
    validation,
)
from currency_api.logs import REQUEST_ID_HEADER
from currency_api.metrics import RequestMetrics
from currency_api.middleware import SingleValueURIParser
from currency_api.services import SCOPE_KEY as SERVICES_KEY
from currency_api.services import Services
from currency_api.settings import Settings

# Re-exported: the spec's path and reader have always been importable from here.
from currency_api.spec_document import SPEC_PATH as SPEC_PATH
from currency_api.spec_document import load_spec as load_spec
from currency_api.store import CurrencyStore, create_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


#: The realm in WWW-Authenticate challenges (RFC 6750 section 3).
REALM: Final = "currency-api"

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    store: CurrencyStore | None = None,
    dynamodb_client: DynamoDBClient | None = None,
    authenticator: auth.Authenticator | None = None,
    offload_blocking: bool = True,
    spec_path: Path = SPEC_PATH,
    validate_spec: bool = True,
    lifespan: bool = True,
    metrics: RequestMetrics | None = None,
) -> AsyncApp:
    """Build the ASGI app from the spec.

    Args:
        settings: the configuration.
        store: the currency store; by default one on ``dynamodb_client`` (or a new client).
        dynamodb_client: a boto3 DynamoDB client, created once per execution environment.
        authenticator: token verification; by default one on the settings' JWKS URL.
        offload_blocking: run boto3 calls in a thread pool (servers) or inline (Lambda).
        spec_path: the OpenAPI document (tests pass an edited copy).
        validate_spec: check the document against the OpenAPI 3.0 schema while building
            (Connexion's own check). Lambda skips it: CI validates the very same file
            (tests/unit/test_spec.py, ``make lint``) and it costs tens of ms per cold start.
        lifespan: keep Connexion's lifespan layer (servers send lifespan events; Mangum with
            ``lifespan="off"`` never does, so the Lambda adapter leaves it out).
        metrics: where each request's CloudWatch EMF record goes; by default a new
            RequestMetrics when ``settings.metrics``, else none.

    Raises:
        connexion.exceptions.ResolverError: an operationId or security function named by the
            spec does not resolve: the app refuses to start.
        connexion.exceptions.InvalidSpecification: ``validate_spec`` and the document is not
            valid OpenAPI.
    """
    if store is None:
        client = dynamodb_client or create_client(settings.region)
        store = CurrencyStore(client, settings.table_name, settings.cursor_secret)
    authenticator = authenticator or auth.Authenticator(settings)
    services = Services(settings=settings, store=store, offload_blocking=offload_blocking)

    app = connexion_extensions.CurrencyAsyncApp(
        __name__,
        # Success bodies as UTF-8 text ("€", not "\u20ac"; JSON is UTF-8, RFC 8259), compact
        # like the problem details.
        jsonifier=Jsonifier(json, ensure_ascii=False, separators=(",", ":")),
        middlewares=connexion_extensions.middlewares(
            lifespan=lifespan, response_validation=settings.validate_responses
        ),
        strict_validation=True,
        uri_parser_class=SingleValueURIParser,
        validate_responses=settings.validate_responses,
        swagger_ui_options=SwaggerUIOptions(
            swagger_ui_path="/ui",
            swagger_ui_config={
                "persistAuthorization": settings.swagger_persist_authorization,
                "displayRequestDuration": True,
            },
        ),
    )
    document = load_spec(spec_path)
    with nullcontext() if validate_spec else _spec_validation_skipped():
        app.add_api(
            document,
            resolver=Resolver(function_resolver=handler_for),
            validator_map=validation.validator_map(),
            security_map=connexion_extensions.security_map(),
        )

    # Two layers of ours, outside Connexion's exception handling (currency_api.edge): the
    # Edge (access log, metrics, the headers every answer gets) sees every answer; CORS, when
    # configured, sits between it and the Gate, so the Gate's refusals (input bounds, request
    # guard, body limit) get the CORS headers too. Layers at one position run in the order
    # added (the first added is outermost).
    if metrics is None and settings.metrics:
        metrics = RequestMetrics(settings.metrics_namespace)
    app.add_middleware(
        edge.Edge,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        document=document,
        values={
            SERVICES_KEY: services,
            auth.SCOPE_KEY: authenticator,
            auth.OPERATION_SCOPES_KEY: auth.OperationScopes.from_spec(document),
        },
        metrics=metrics,
    )
    if settings.cors_allow_origins:
        app.add_middleware(
            guards.ProblemCORSMiddleware,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            allow_origins=list(settings.cors_allow_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=[
                "ETag",
                "Location",
                "Retry-After",
                "WWW-Authenticate",
                REQUEST_ID_HEADER,
            ],
            max_age=600,
        )
    app.add_middleware(
        edge.Gate,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        document=document,
        bounds=bounds.bounds_from_spec(document),
        realm=REALM,
        max_body_bytes=settings.max_body_bytes,
        public_url=settings.public_url,
    )

    # Every error, whoever raises it, is rendered by currency_api.problems (the most specific
    # class registered wins: Starlette looks the exception's MRO up). These replace
    # Connexion's own renderers of ProblemException, HTTPException and Exception.
    app.add_error_handler(problems.DomainError, problems.domain_error_handler)
    app.add_error_handler(BadRequestProblem, guards.bad_request_handler)
    app.add_error_handler(UnsupportedMediaTypeProblem, guards.media_type_handler(document))
    app.add_error_handler(OAuthProblem, _unauthorized)
    app.add_error_handler(OAuthScopeProblem, _forbidden)
    app.add_error_handler(ProblemException, guards.problem_exception_handler)
    app.add_error_handler(HTTPException, guards.http_exception_handler)
    app.add_error_handler(Exception, problems.unexpected_error_handler)
    return app


@contextmanager
def _spec_validation_skipped() -> Iterator[None]:
    """Build without Connexion's schema check of the document (see ``validate_spec``).

    Connexion 3.3 offers no option for this: ``Specification.__init__`` always calls the
    ``_validate_spec`` classmethod, so it is replaced while ``add_api`` runs and restored
    after. Building happens once, at start, before any request is served.
    """
    own = vars(OpenAPISpecification).get("_validate_spec")  # None: inherited from Specification
    OpenAPISpecification._validate_spec = classmethod(lambda _cls, _spec: None)
    try:
        yield
    finally:
        if own is None:
            del OpenAPISpecification._validate_spec
        else:
            OpenAPISpecification._validate_spec = own


def handler_for(operation_id: str) -> Callable[..., Any]:
    """The handler function of an operation, as Connexion resolves it.

    Connexion joins the operation's ``x-openapi-router-controller`` and its ``operationId``
    (``handlers.currencies`` + ``getCurrency``); the function is the snake_case name in that
    module (``handlers.currencies.get_currency``). lowerCamelCase operationIds give generated
    clients idiomatic names in every language.

    Raises:
        ImportError, AttributeError: no such module or function (Connexion reports a
            ResolverError and the app does not start).
    """
    module, _, name = operation_id.rpartition(".")
    function: Callable[..., Any] = get_function_from_name(f"{module}.{_snake_case(name)}")
    return function


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _unauthorized(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """401 with an RFC 6750 challenge; no hint of which check failed."""
    if isinstance(exc, OAuthResponseProblem):
        challenge = f'Bearer realm="{REALM}", error="invalid_token"'
        detail = "The access token is not valid."
    else:
        challenge = f'Bearer realm="{REALM}"'
        detail = "An access token is required."
    return problems.problem_response(401, "Unauthorized", detail, {"WWW-Authenticate": challenge})


def _forbidden(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """403 with ``error="insufficient_scope"`` and the scope needed (RFC 6750 section 3.1)."""
    required: Any = getattr(exc, "required_scopes", None) or []
    scope = " ".join(sorted(str(s) for s in required))
    challenge = f'Bearer realm="{REALM}", error="insufficient_scope"'
    if scope:
        challenge += f', scope="{scope}"'
    return problems.problem_response(
        403,
        "Forbidden",
        "The access token does not grant this operation.",
        {"WWW-Authenticate": challenge},
    )
