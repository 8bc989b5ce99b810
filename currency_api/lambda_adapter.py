"""The Lambda adapter: API Gateway events through Mangum into the app, and SnapStart priming.

Building one has no side effects beyond building the app, so the Lambda entry point
(currency_api/lambda_function.py) and the benchmarks in bench/ share it.
"""

from __future__ import annotations

import base64
import json
import logging
import random
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Final

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES, HANDLERS

from currency_api import lambda_events
from currency_api.app import create_app
from currency_api.auth import Authenticator
from currency_api.connexion_extensions import prime_operations
from currency_api.metrics import RequestMetrics
from currency_api.problems import DomainError
from currency_api.settings import Settings, SettingsError
from currency_api.store import CurrencyStore, create_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

logger = logging.getLogger(__name__)

#: Mangum's text types replace its defaults and match by substring: "+json" covers
#: application/problem+json and application/merge-patch+json.
TEXT_MIME_TYPES: Final = [*DEFAULT_TEXT_MIME_TYPES, "+json"]

#: The currency code that priming reads; a read of a code nobody stores changes nothing.
PRIMING_CODE: Final = "XXX"


class LambdaAdapter:
    """Answers API Gateway (HTTP API v2.0, REST API v1.0) and ALB events with the app.

    Holds what one execution environment keeps between invocations: the Mangum adapter
    around the app, the authenticator (and its cached JWKS) and the DynamoDB client.
    """

    def __init__(
        self,
        app: Any,
        *,
        authenticator: Authenticator,
        store: CurrencyStore,
        dynamodb_client: DynamoDBClient | None,
        metrics: RequestMetrics | None = None,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.store = store
        self.dynamodb_client = dynamodb_client
        self.metrics = metrics
        self.mangum = Mangum(app, lifespan="off", text_mime_types=list(TEXT_MIME_TYPES))

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        """Answer one event.

        Any other event (a scheduled warm-up ping, say) is acknowledged without touching the
        app: ``{"statusCode": 204}`` is returned so an invoker sees it was ignored, not failed.
        """
        try:
            event = lambda_events.screen(event)
        except lambda_events.MalformedEvent as exc:
            logger.warning("malformed HTTP event: %s", exc)
            return lambda_events.bad_request(str(exc))
        if not self._is_http_event(event, context):
            source = event.get("source") if isinstance(event, dict) else None
            logger.info("ignored a non-HTTP event from %s", source or "an unknown source")
            return {"statusCode": 204, "body": ""}
        try:
            result: dict[str, Any] = self.mangum(normalize(event), context)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Mangum answers every exception of the app itself (a 500 problem from the app's
            # own handlers); what escapes is its reading of an event no API Gateway sends (a
            # non-numeric x-forwarded-port, a null requestContext.identity, ...).
            logger.warning("malformed HTTP event: %s", type(exc).__name__)
            return lambda_events.bad_request("it is not a valid HTTP request event")
        # No content, so no media type (RFC 9110 sections 15.3.5, 15.4.5): the app sends none
        # (currency_api.edge; Swagger UI's redirect of /ui), but Mangum's API Gateway handlers
        # add ``application/json`` to any answer without one, and no JSON text is empty.
        headers = result.get("headers")
        if (
            isinstance(headers, dict)
            and "content-type" in headers
            and (
                result.get("statusCode") in (204, 304)
                or (result.get("body") == "" and headers["content-type"] == "application/json")
            )
        ):
            result = {
                **result,
                "headers": {k: v for k, v in headers.items() if k != "content-type"},
            }
        if _method(event) == "HEAD":
            # A HEAD answer has no content (RFC 9110 section 9.3.2); the headers, including
            # Content-Length, stay those GET would send. uvicorn drops the body itself; on
            # Lambda nothing between the app and the caller does.
            result = {**result, "body": "", "isBase64Encoded": False}
        return result

    def _is_http_event(self, event: Any, context: Any) -> bool:
        if not isinstance(event, dict):
            return False
        return any(cls.infer(event, context, self.mangum.config) for cls in HANDLERS)

    def before_snapshot(self) -> None:
        """SnapStart's before-snapshot hook: do every lazy first-request job now.

        Fetches the JWKS; pushes a ``GET /health`` through the whole stack (Connexion builds
        its middleware stack on the first request); sends ``GET /currencies/XXX`` with a token
        that names a real key but carries a wrong signature, so token parsing, the RSA check
        and the 401 problem path run (the request is refused: nothing is read or written);
        generates every operation's parameter and body checks and builds its handler's call
        plan, which no priming request reaches (validation runs after the token check; see
        :func:`connexion_extensions.prime_operations`: without it the first ``PATCH`` after a
        restore paid 40-60 ms for them here);
        reads a code nobody stores through the store, so botocore loads its endpoint rules,
        serializers and parsers. Then closes the DynamoDB connection pool: a TCP connection
        cannot survive the snapshot. A failure is logged, never raised, so priming never
        prevents a version from being published. The priming requests write no metrics:
        they are not traffic (and the 401 would count as a client error).
        """
        self.authenticator.jwks.refresh()
        context = _PrimingContext()
        with self.metrics.paused() if self.metrics is not None else nullcontext():
            self(priming_event("/health"), context)
            kid = next(iter(self.authenticator.jwks.key_ids()), None)
            if kid is not None:
                token = unverifiable_token(kid)
                self(priming_event(f"/currencies/{PRIMING_CODE}", token), context)
        try:
            primed = prime_operations(self.app.middleware)
            logger.info("primed the checks of %d request schemas", primed)
        except Exception as exc:  # priming must not fail the publish
            logger.warning("priming the request checks failed: %s", type(exc).__name__)
        try:
            self.store.get(PRIMING_CODE)
        except DomainError:
            pass  # not found (expected) or the data store unreachable: priming only
        except Exception as exc:  # boto3's errors are many; priming must not fail the publish
            logger.warning("priming the data store failed: %s", type(exc).__name__)
        self.close_connections()

    def after_restore(self) -> None:
        """SnapStart's after-restore hook: make this environment unlike its siblings.

        Every environment restored from one snapshot starts with the same memory, so:
        ``random`` is re-seeded from the OS (botocore's retry jitter draws from it, and equal
        jitter would retry in lockstep); the JWKS is refetched if it is older than the refetch
        interval, and the refetch gate reopened (the monotonic clock it used is meaningless
        across a restore); and pooled DynamoDB connections are dropped (any made before the
        snapshot are dead; botocore opens new ones on demand). Secrets and UUIDs come from
        ``os.urandom`` (``secrets``, ``uuid4``), which is unique after a restore. The next
        request's metrics record is marked as a cold start.
        """
        random.seed()
        if self.metrics is not None:
            self.metrics.restarted()
        self.authenticator.jwks.after_restore()
        self.close_connections()

    def close_connections(self) -> None:
        """Close the DynamoDB client's pooled connections; the client stays usable."""
        if self.dynamodb_client is not None:
            self.dynamodb_client.close()


def build_adapter(
    settings: Settings,
    *,
    on_lambda: bool,
    store: CurrencyStore | None = None,
    dynamodb_client: DynamoDBClient | None = None,
    authenticator: Authenticator | None = None,
) -> LambdaAdapter:
    """The app from create_app behind Mangum with lifespan off.

    boto3 calls run inline (one request at a time per environment) and Connexion's schema
    check of the spec is skipped (CI validates the same file; see create_app).

    Raises:
        SettingsError: TRUST_API_GATEWAY_CLAIMS is set outside AWS Lambda.
    """
    if settings.trust_gateway_claims and not on_lambda:
        raise SettingsError(
            "TRUST_API_GATEWAY_CLAIMS is only allowed on AWS Lambda behind the JWT authorizer"
        )
    if store is None:
        dynamodb_client = dynamodb_client or create_client(settings.region)
        store = CurrencyStore(dynamodb_client, settings.table_name, settings.cursor_secret)
    authenticator = authenticator or Authenticator(settings)
    metrics = RequestMetrics(settings.metrics_namespace) if settings.metrics else None
    app = create_app(
        settings,
        store=store,
        authenticator=authenticator,
        offload_blocking=False,
        validate_spec=False,
        lifespan=False,
        metrics=metrics,
    )
    return LambdaAdapter(
        app,
        authenticator=authenticator,
        store=store,
        dynamodb_client=dynamodb_client,
        metrics=metrics,
    )


def _method(event: dict[str, Any]) -> str:
    """The request method of an HTTP API v2.0 (``requestContext.http.method``) or REST API /
    ALB (``httpMethod``) event, upper case; ``""`` if the event names none."""
    context = event.get("requestContext") or {}
    http = context.get("http") if isinstance(context, dict) else None
    method = http.get("method") if isinstance(http, dict) else event.get("httpMethod")
    return method.upper() if isinstance(method, str) else ""


def normalize(event: dict[str, Any]) -> dict[str, Any]:
    """Adapt an HTTP API v2.0 event to what the app expects.

    A named stage (not ``$default``) prefixes ``rawPath`` with ``/{stage}``: strip it, and keep
    it as :data:`lambda_events.PATH_PREFIX` for the URLs the app sends back (an event that
    arrives with that key loses it first); a REST API's prefix (the stage, or a custom
    domain's base path) is kept the same way. Only a prefix of
    :data:`lambda_events.SAFE_PATH_PREFIX` is used: any other is left in the path (which then
    matches no route), never sent back. An event with a body but no ``content-length``
    (hand-made or from a test tool) gets one, because Connexion treats a request without it
    as bodiless. A non-numeric ``x-forwarded-port`` keeps only its last (the gateway's) value.
    """
    if lambda_events.PATH_PREFIX in event:  # ours to set, never the invoker's
        event = {k: v for k, v in event.items() if k != lambda_events.PATH_PREFIX}
    context = event.get("requestContext") or {}
    if event.get("version") != "2.0":
        # REST API (1.0): ``path`` is the resource path, ``requestContext.path`` the path the
        # caller used (with the stage); the difference is what a Location must keep.
        path, public = event.get("path"), context.get("path")
        if isinstance(path, str) and isinstance(public, str) and public.endswith(path):
            stage_prefix = public[: len(public) - len(path)]
            if lambda_events.SAFE_PATH_PREFIX.fullmatch(stage_prefix):
                event = {**event, lambda_events.PATH_PREFIX: stage_prefix}
        return event
    stage = context.get("stage")
    prefix = f"/{stage}/"
    http = context.get("http") or {}
    if (
        stage
        and stage != "$default"
        and lambda_events.SAFE_PATH_PREFIX.fullmatch(prefix[:-1])
        and str(http.get("path", "")).startswith(prefix)
    ):
        event = {
            **event,
            "rawPath": str(event.get("rawPath", "")).removeprefix(prefix[:-1]),
            "requestContext": {
                **context,
                "http": {**http, "path": http["path"][len(prefix) - 1 :]},
            },
            lambda_events.PATH_PREFIX: prefix[:-1],
        }
    body = event.get("body")
    headers = event.get("headers") or {}
    port = headers.get("x-forwarded-port")
    if isinstance(port, str) and not port.isdigit():
        # A client's own X-Forwarded-Port arrives with the gateway's appended ("443,80"):
        # keep the gateway's, the last one (Mangum would fail on int("443,80")).
        last = port.rsplit(",", 1)[-1].strip()
        headers = {k: v for k, v in headers.items() if k != "x-forwarded-port"}
        if last.isdigit():
            headers["x-forwarded-port"] = last
        event = {**event, "headers": headers}
    if body and "content-length" not in map(str.lower, headers):
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        event = {**event, "headers": {**headers, "content-length": str(len(raw))}}
    return event


def priming_event(path: str, token: str | None = None) -> dict[str, Any]:
    """A minimal HTTP API v2.0 ``GET`` event for priming (shape: API Gateway developer guide,
    "Working with AWS Lambda proxy integrations for HTTP APIs", payload format 2.0)."""
    headers = {"host": "snapstart.priming", "accept": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "snapstart",
            "domainName": "snapstart.priming",
            "domainPrefix": "snapstart",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "snapstart-priming",
            },
            "requestId": "snapstart-priming",
            "routeKey": f"GET {path}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": False,
    }


def unverifiable_token(kid: str) -> str:
    """A JWS naming key ``kid`` with an all-zero RS256 signature: it always fails the check."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}).encode()
    return f"{part(header)}.{part(b'{}')}.{part(bytes(256))}"


class _PrimingContext:
    """The attributes of the Lambda context object that Mangum and loggers read."""

    function_name = "snapstart-priming"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:snapstart-priming"
    memory_limit_in_mb = 128
    aws_request_id = "snapstart-priming"
    log_group_name = "snapstart-priming"
    log_stream_name = "snapstart-priming"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
