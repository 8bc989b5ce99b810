"""AWS Lambda entry point: the app from create_app, served by Mangum."""

from __future__ import annotations

import logging
import os
from typing import Any, Final

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES, HANDLERS

from currency_api import lambda_events
from currency_api.app import create_app
from currency_api.logs import configure_logging
from currency_api.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

#: Mangum's text types replace its defaults and match by substring: "+json" covers
#: application/problem+json and application/merge-patch+json.
TEXT_MIME_TYPES: Final = [*DEFAULT_TEXT_MIME_TYPES, "+json"]


def build_handler(settings: Settings, on_lambda: bool) -> Mangum:
    """The Mangum adapter around the app; refuses to trust gateway claims off Lambda.

    Raises:
        SettingsError: TRUST_API_GATEWAY_CLAIMS is set outside AWS Lambda.
    """
    if settings.trust_gateway_claims and not on_lambda:
        raise SettingsError(
            "TRUST_API_GATEWAY_CLAIMS is only allowed on AWS Lambda behind the JWT authorizer"
        )
    app = create_app(settings, offload_blocking=False)
    return Mangum(app, lifespan="off", text_mime_types=list(TEXT_MIME_TYPES))


def _is_http_event(handler: Mangum, event: Any, context: Any) -> bool:
    if not isinstance(event, dict):
        return False
    return any(cls.infer(event, context, handler.config) for cls in HANDLERS)


def _normalize(event: dict[str, Any]) -> dict[str, Any]:
    """Adapt an HTTP API v2.0 event to what the app expects.

    A named stage (not ``$default``) prefixes ``rawPath`` with ``/{stage}``: strip it. An event
    with a body but no ``content-length`` (hand-made or from a test tool) gets one, because
    Connexion treats a request without it as bodiless.
    """
    if event.get("version") != "2.0":
        return event
    context = event.get("requestContext") or {}
    stage = context.get("stage")
    prefix = f"/{stage}/"
    http = context.get("http") or {}
    if stage and stage != "$default" and str(http.get("path", "")).startswith(prefix):
        event = {
            **event,
            "rawPath": str(event.get("rawPath", "")).removeprefix(prefix[:-1]),
            "requestContext": {
                **context,
                "http": {**http, "path": http["path"][len(prefix) - 1 :]},
            },
        }
    body = event.get("body")
    headers = event.get("headers") or {}
    if body and not any(name.lower() == "content-length" for name in headers):
        import base64

        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        event = {**event, "headers": {**headers, "content-length": str(len(raw))}}
    return event


_settings = Settings.from_env()
configure_logging(_settings.log_level)
_handler = build_handler(_settings, on_lambda=bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")))


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer an API Gateway (HTTP API v2.0 or REST API v1.0) or ALB event.

    Any other event (a scheduled warm-up ping, say) is acknowledged without touching the app:
    ``{"statusCode": 204}`` is returned so an invoker sees it was ignored, not failed.
    """
    try:
        event = lambda_events.screen(event)
    except lambda_events.MalformedEvent as exc:
        logger.warning("malformed HTTP event: %s", exc)
        return lambda_events.bad_request(str(exc))
    if not _is_http_event(_handler, event, context):
        source = event.get("source") if isinstance(event, dict) else None
        logger.info("ignored a non-HTTP event from %s", source or "an unknown source")
        return {"statusCode": 204, "body": ""}
    result: dict[str, Any] = _handler(_normalize(event), context)
    return result
