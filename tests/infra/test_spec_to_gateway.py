"""The spec-to-gateway mapping: what an HTTP API can express is routed, the rest fails synth."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import App

from infra.http_api import DOCS_ROUTES, gateway_routes
from infra.spec_routes import (
    UnexpressibleSpecError,
    resource_server,
    routes_from_spec,
)
from infra.stack import SPEC_PATH, CurrencyApiStack
from tests.infra.conftest import cdk_context
from tests.spec_operations import spec_copy

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def real_spec() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return document


@pytest.fixture
def spec(real_spec: dict[str, Any]) -> dict[str, Any]:
    """A private copy of the real spec, to edit."""
    return copy.deepcopy(real_spec)


def operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method]
    return found


def test_every_spec_operation_becomes_exactly_one_route(real_spec: dict[str, Any]) -> None:
    expected = {
        f"{method.upper()} {path}"
        for path, item in real_spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    keys = [route.key for route in routes_from_spec(real_spec)]
    assert sorted(keys) == sorted(expected)


def test_bearer_alternative_beside_the_oauth2_one_is_secured_with_the_oauth2_scopes(
    real_spec: dict[str, Any],
) -> None:
    # The spec's form: `- bearerAuth: []` OR `- cognito: [scope]` (one pasted token authorizes
    # Swagger UI); the bearer alternative is held to the oauth2 alternative's scope.
    assert operation(real_spec, "post", "/currencies")["security"] == [
        {"bearerAuth": []},
        {"cognito": ["currencies/write"]},
    ]
    routes = {route.key: route for route in routes_from_spec(real_spec)}
    assert routes["POST /currencies"].secured
    assert routes["POST /currencies"].scopes == {"currencies/write"}
    assert routes["GET /currencies/{code}"].scopes == {"currencies/read"}


def test_operation_with_empty_security_is_public(real_spec: dict[str, Any]) -> None:
    routes = {route.key: route for route in routes_from_spec(real_spec)}
    assert not routes["GET /health"].secured


def test_operation_without_security_inherits_the_global_requirement(
    spec: dict[str, Any],
) -> None:
    del operation(spec, "get", "/currencies")["security"]
    routes = {route.key: route for route in routes_from_spec(spec)}
    assert routes["GET /currencies"].secured
    assert routes["GET /currencies"].scopes == {"currencies/read"}


def test_alternatives_served_by_the_same_authorizer_are_accepted(spec: dict[str, Any]) -> None:
    operation(spec, "delete", "/currencies/{code}")["security"] = [
        {"cognito": ["currencies/write"]},
        {"bearerAuth": []},
    ]
    routes = {route.key: route for route in routes_from_spec(spec)}
    assert routes["DELETE /currencies/{code}"].secured


def test_the_old_and_form_of_bearer_with_oauth2_reads_the_same(spec: dict[str, Any]) -> None:
    operation(spec, "post", "/currencies")["security"] = [
        {"cognito": ["currencies/write"], "bearerAuth": []}
    ]
    routes = {route.key: route for route in routes_from_spec(spec)}
    assert routes["POST /currencies"].secured
    assert routes["POST /currencies"].scopes == {"currencies/write"}


def test_requirement_needing_two_scopes_at_once_is_refused_naming_the_operation(
    spec: dict[str, Any],
) -> None:
    operation(spec, "put", "/currencies/{code}")["security"] = [
        {"cognito": ["currencies/read", "currencies/write"], "bearerAuth": []}
    ]
    with pytest.raises(
        UnexpressibleSpecError, match=r"replaceCurrency \(PUT /currencies/\{code\}\).*all at once"
    ):
        routes_from_spec(spec)


@pytest.mark.parametrize(
    ("scheme", "complaint"),
    [
        ({"type": "apiKey", "in": "header", "name": "X-Api-Key"}, "apiKey"),
        ({"type": "http", "scheme": "basic"}, "http basic"),
        (
            {"type": "openIdConnect", "openIdConnectUrl": "https://example.com/.well-known"},
            "openIdConnect",
        ),
        ({"type": "http", "scheme": "bearer", "bearerFormat": "opaque"}, "opaque"),
    ],
)
def test_scheme_the_jwt_authorizer_cannot_check_is_refused(
    spec: dict[str, Any], scheme: dict[str, Any], complaint: str
) -> None:
    spec["components"]["securitySchemes"]["other"] = scheme
    operation(spec, "get", "/currencies")["security"] = [{"other": []}]
    with pytest.raises(UnexpressibleSpecError, match=rf"listCurrencies .*{complaint}"):
        routes_from_spec(spec)


def test_undeclared_scheme_is_refused(spec: dict[str, Any]) -> None:
    operation(spec, "get", "/currencies")["security"] = [{"nosuch": []}]
    with pytest.raises(UnexpressibleSpecError, match=r"listCurrencies.*'nosuch' is not declared"):
        routes_from_spec(spec)


def test_alternatives_needing_different_authorizers_are_refused(spec: dict[str, Any]) -> None:
    spec["components"]["securitySchemes"]["partner"] = copy.deepcopy(
        spec["components"]["securitySchemes"]["cognito"]
    )
    operation(spec, "post", "/currencies")["security"] = [
        {"cognito": ["currencies/write"]},
        {"partner": ["currencies/write"]},
    ]
    with pytest.raises(
        UnexpressibleSpecError, match=r"createCurrency.*'partner' is not the user pool"
    ):
        routes_from_spec(spec)


def test_optional_authentication_is_refused(spec: dict[str, Any]) -> None:
    operation(spec, "get", "/currencies")["security"] = [{}, {"cognito": ["currencies/read"]}]
    with pytest.raises(UnexpressibleSpecError, match=r"listCurrencies.*optional"):
        routes_from_spec(spec)


def test_scope_the_user_pool_cannot_issue_is_refused(spec: dict[str, Any]) -> None:
    operation(spec, "get", "/currencies")["security"] = [{"cognito": ["currencies/admin"]}]
    with pytest.raises(UnexpressibleSpecError, match=r"listCurrencies.*currencies/admin"):
        routes_from_spec(spec)


def test_method_an_http_api_cannot_route_is_refused(spec: dict[str, Any]) -> None:
    spec["paths"]["/health"]["trace"] = {"operationId": "traceHealth", "security": []}
    with pytest.raises(UnexpressibleSpecError, match=r"traceHealth \(TRACE /health\)"):
        routes_from_spec(spec)


def test_path_with_a_partial_parameter_segment_is_refused(spec: dict[str, Any]) -> None:
    spec["paths"]["/currencies/{code}.json"] = spec["paths"].pop("/currencies/{code}")
    with pytest.raises(UnexpressibleSpecError, match=r"getCurrency.*neither a literal"):
        routes_from_spec(spec)


def test_operation_colliding_with_the_docs_routes_is_refused(spec: dict[str, Any]) -> None:
    spec["paths"]["/openapi.json"] = {"get": {"operationId": "getSpec", "security": []}}
    with pytest.raises(UnexpressibleSpecError, match=r"getSpec \(GET /openapi\.json\)"):
        gateway_routes(routes_from_spec(spec))


def test_docs_and_spec_routes_are_public() -> None:
    assert DOCS_ROUTES
    assert not any(route.secured for route in DOCS_ROUTES)


def test_resource_server_and_scopes_come_from_the_oauth2_scheme(
    real_spec: dict[str, Any],
) -> None:
    identifier, scopes = resource_server(real_spec)
    assert identifier == "currencies"
    assert set(scopes) == {"read", "write"}


def test_synthesis_fails_with_a_clear_message_when_the_gateway_cannot_express_the_spec(
    spec: dict[str, Any], tmp_path: Path
) -> None:
    operation(spec, "patch", "/currencies/{code}")["security"] = [
        {"cognito": ["currencies/read", "currencies/write"], "bearerAuth": []}
    ]
    edited = spec_copy(tmp_path, spec=spec)
    app = App(context=cdk_context())
    with pytest.raises(
        UnexpressibleSpecError, match=r"updateCurrency \(PATCH /currencies/\{code\}\)"
    ):
        CurrencyApiStack(app, "Unexpressible", spec_path=edited)
