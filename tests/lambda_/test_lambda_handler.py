"""lambda_handler answers real API Gateway event shapes through Mangum."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from currency_api.settings import SettingsError
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2, rest_api_v1

CONTEXT = LambdaContext()


def body_of(result: dict[str, Any]) -> Any:
    raw = result.get("body") or ""
    if result.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return json.loads(raw)


def test_get_health_v2(handler: Handler) -> None:
    result = handler(http_api_v2("GET", "/health"), CONTEXT)
    assert result["statusCode"] == 200
    assert body_of(result) == {"status": "ok"}
    assert result["headers"]["content-type"] == "application/json"


def test_post_with_base64_body_creates_a_currency(
    handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro(), base64_body=True)
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 201, result
    assert body_of(result)["code"] == "EUR"
    assert result["headers"]["location"] == "/currencies/EUR"
    assert store.get("EUR")["name"] == "Euro"


def test_get_by_code_returns_etag_and_json_as_text(
    handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    store.create(euro(), "tester")
    result = handler(http_api_v2("GET", "/currencies/EUR", headers=admin), CONTEXT)
    assert result["statusCode"] == 200
    assert result["isBase64Encoded"] is False
    assert result["headers"]["etag"].startswith('"')
    assert body_of(result)["numericCode"] == "978"


def test_problem_json_is_returned_as_text_not_base64(
    handler: Handler, admin: dict[str, str]
) -> None:
    result = handler(http_api_v2("GET", "/currencies/XXX", headers=admin), CONTEXT)
    assert result["statusCode"] == 404
    assert result["isBase64Encoded"] is False
    assert result["headers"]["content-type"] == "application/problem+json"
    assert body_of(result)["status"] == 404


def test_query_string_reaches_the_operation(
    handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    for code in ("AAA", "BBB", "CCC"):
        store.create(euro(code=code), "tester")
    result = handler(
        http_api_v2("GET", "/currencies", headers=admin, query=[("limit", "2")]), CONTEXT
    )
    page = body_of(result)
    assert len(page["items"]) == 2
    assert page["nextCursor"]


def test_repeated_query_keys_are_a_400_not_a_crash(handler: Handler, admin: dict[str, str]) -> None:
    event = http_api_v2("GET", "/currencies", headers=admin, query=[("limit", "2"), ("limit", "3")])
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 400
    assert body_of(result)["status"] == 400


def test_named_stage_prefix_is_stripped(handler: Handler, admin: dict[str, str]) -> None:
    result = handler(http_api_v2("GET", "/health", stage="prod"), CONTEXT)
    assert result["statusCode"] == 200
    missing = handler(http_api_v2("GET", "/currencies/XXX", headers=admin, stage="prod"), CONTEXT)
    assert missing["statusCode"] == 404


def test_cookies_do_not_disturb_the_request(handler: Handler, admin: dict[str, str]) -> None:
    event = http_api_v2("GET", "/health", cookies=["session=abc", "theme=dark"])
    assert handler(event, CONTEXT)["statusCode"] == 200


def test_anonymous_v2_request_gets_401_with_challenge(handler: Handler) -> None:
    result = handler(http_api_v2("GET", "/currencies"), CONTEXT)
    assert result["statusCode"] == 401
    assert result["headers"]["www-authenticate"].startswith("Bearer")


def test_event_without_content_length_still_has_its_body_validated(
    handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro())
    del event["headers"]["content-length"]
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 201, result
    assert store.get("EUR")["code"] == "EUR"


def test_rest_api_v1_event_is_answered(
    handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    store.create(euro(), "tester")
    result = handler(rest_api_v1("GET", "/currencies/EUR", headers=admin), CONTEXT)
    assert result["statusCode"] == 200
    assert body_of(result)["code"] == "EUR"


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        {"warmer": True},
        {},
    ],
)
def test_non_http_events_do_not_crash_the_function(handler: Handler, event: dict[str, Any]) -> None:
    assert handler(event, CONTEXT) == {"statusCode": 204, "body": ""}


def test_trusting_gateway_claims_is_refused_off_lambda(
    monkeypatch: pytest.MonkeyPatch,
    lambda_env: dict[str, str],
    import_lambda_function: Callable[[], ModuleType],
) -> None:
    monkeypatch.setenv("TRUST_API_GATEWAY_CLAIMS", "true")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    with pytest.raises(SettingsError, match="TRUST_API_GATEWAY_CLAIMS"):
        import_lambda_function()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("PUT", "/health", 405), ("GET", "/nowhere", 404), ("DELETE", "/currencies", 405)],
)
def test_the_default_route_s_events_get_our_404_and_405_problems(
    handler: Handler, method: str, path: str, status: int
) -> None:
    """What no gateway route names reaches the function through ``$default`` (routeKey
    ``$default``, infra/http_api.py): the app answers, as the spec's problem+json."""
    event = http_api_v2(method, path)
    event["routeKey"] = "$default"
    event["requestContext"]["routeKey"] = "$default"
    result = handler(event, CONTEXT)
    assert result["statusCode"] == status
    assert result["headers"]["content-type"] == "application/problem+json"
    problem = body_of(result)
    assert list(problem)[:4] == ["type", "title", "status", "detail"]
    if status == 405:
        assert result["headers"]["allow"]


@pytest.mark.parametrize(
    ("path", "status"),
    [("/openapi.json", 200), ("/health", 200), ("/currencies/EUR", 401), ("/nowhere", 404)],
)
def test_head_answers_carry_no_content_on_lambda(handler: Handler, path: str, status: int) -> None:
    get = handler(http_api_v2("GET", path), CONTEXT)
    for event in (http_api_v2("HEAD", path), rest_api_v1("HEAD", path)):
        result = handler(event, CONTEXT)
        assert result["statusCode"] == status == get["statusCode"]
        assert result["body"] == ""
        assert result["isBase64Encoded"] is False
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        assert headers.get("content-type") == get["headers"]["content-type"]


def test_no_content_answers_carry_no_content_type_on_lambda(
    handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    """A 204 and a 304 have no content, so no media type; Mangum adds one unless removed."""
    store.create(euro(), "tester")
    got = handler(http_api_v2("GET", "/currencies/EUR", headers=admin), CONTEXT)
    etag = got["headers"]["etag"]
    for make in (http_api_v2, rest_api_v1):
        not_modified = handler(
            make("GET", "/currencies/EUR", headers={**admin, "If-None-Match": etag}), CONTEXT
        )
        assert not_modified["statusCode"] == 304
        assert "content-type" not in {k.lower() for k in not_modified.get("headers") or {}}
        assert not_modified["headers"]["etag"] == etag
    deleted = handler(http_api_v2("DELETE", "/currencies/EUR", headers=admin), CONTEXT)
    assert deleted["statusCode"] == 204
    assert "content-type" not in {k.lower() for k in deleted.get("headers") or {}}
    assert deleted["body"] == ""
