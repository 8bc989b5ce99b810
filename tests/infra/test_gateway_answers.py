"""Every answer API Gateway can give by itself, read from the synthesized template, is one the
spec declares for the operation it concerns (status and media type).

HTTP APIs cannot customise the answers the gateway gives itself ("Custom gateway responses:
REST yes, HTTP no", API Gateway developer guide, "Choose between REST APIs and HTTP APIs"):

- any route with a Lambda integration: 413 beyond the 10 MB payload quota ("Quotas for
  configuring and running an HTTP API"), 500 when the function fails or its answer is not
  usable, 503 when the integration times out ("Troubleshooting issues with HTTP API Lambda
  integrations");
- the stage and the account: 429 when throttled ("Throttle requests to your HTTP APIs");
- a route with the JWT authorizer: 401 ("Troubleshooting issues with HTTP API JWT
  authorizers"); with authorization scopes also 403;
- a method or path no route names, when there is no ``$default`` route: 404
  ("Working with routes for HTTP APIs").

Each body is ``application/json`` ``{"message": "..."}``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml

from infra.http_api import DOCS_ROUTES
from infra.stack import SPEC_PATH
from tests.infra.conftest import Synthesized

Answer = tuple[str, str]  # (status, media type)
GATEWAY_JSON = "application/json"
#: Operation keys of an OpenAPI 3.0 path item.
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: What an HTTP API route can name: a request with one of these on a spec path and no route
#: falls to ``$default``, or without one gets the gateway's 404.
ROUTABLE = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH")


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def resolve(spec: Mapping[str, Any], node: Any) -> Any:
    """A ``$ref`` object resolved (local references only)."""
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, METHOD, operation) for every operation of the spec."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method.upper(), operation


def declared_answers(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> set[Answer]:
    """The (status, media type) pairs an operation declares."""
    answers: set[Answer] = set()
    for status, response in operation["responses"].items():
        for media_type in resolve(spec, response).get("content") or {"": None}:
            answers.add((str(status), media_type))
    return answers


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def gateway_answers(template: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, set[Answer]]:
    """'METHOD /path' of each spec operation -> what the gateway itself may answer to a request
    for it, read from the template's routes, ``$default`` route, authorizers, integrations and
    stage. Answers of ``$default`` are charged to every operation: whatever reaches it (HEAD, a
    method the path lacks) is answered in the operations' place."""
    routes = {
        props["RouteKey"]: props
        for props in (
            r["Properties"] for r in _resources(template, "AWS::ApiGatewayV2::Route").values()
        )
    }
    integrations = _resources(template, "AWS::ApiGatewayV2::Integration")
    stages = _resources(template, "AWS::ApiGatewayV2::Stage")

    def route_answers(props: Mapping[str, Any]) -> set[Answer]:
        found: set[Answer] = set()
        target = str(props.get("Target", ""))
        if any(logical_id in target for logical_id in integrations):
            found |= {("413", GATEWAY_JSON), ("500", GATEWAY_JSON), ("503", GATEWAY_JSON)}
        if props.get("AuthorizationType", "NONE") != "NONE":
            found.add(("401", GATEWAY_JSON))
            if props.get("AuthorizationScopes"):
                found.add(("403", GATEWAY_JSON))
        return found

    # Account-level throttling applies to every API; a stage's own settings only lower it.
    throttled = {("429", GATEWAY_JSON)}
    assert stages, "no stage: nothing is deployed"
    default = routes.get("$default")
    everywhere = throttled | (route_answers(default) if default else set())
    answers: dict[str, set[Answer]] = {}
    for path, method, _ in operations(spec):
        key = f"{method} {path}"
        found = set(everywhere)
        props = routes.get(key)
        found |= route_answers(props) if props else set()
        unrouted = [m for m in ROUTABLE if f"{m} {path}" not in routes]
        if default is None and (props is None or unrouted):
            found.add(("404", GATEWAY_JSON))
        answers[key] = found
    return answers


def undeclared(template: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, list[Answer]]:
    """'METHOD /path' -> the gateway's possible answers the spec does not declare there."""
    declared = {
        f"{method} {path}": declared_answers(spec, operation)
        for path, method, operation in operations(spec)
    }
    gaps = {
        key: sorted(found - declared[key]) for key, found in gateway_answers(template, spec).items()
    }
    return {key: gap for key, gap in gaps.items() if gap}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec()


def test_the_default_stack_answers_nothing_the_spec_does_not_declare(
    stack: Synthesized, spec: dict[str, Any]
) -> None:
    assert undeclared(stack.template, spec) == {}


def test_the_gateway_authorizer_mode_answers_nothing_the_spec_does_not_declare(
    authorizer_template: dict[str, Any], spec: dict[str, Any]
) -> None:
    assert undeclared(authorizer_template, spec) == {}
    answers = gateway_answers(authorizer_template, spec)
    assert ("401", GATEWAY_JSON) in answers["GET /currencies"]
    assert ("401", GATEWAY_JSON) not in answers["GET /health"]


def test_the_default_stack_has_a_default_route_to_the_function_and_no_authorizer(
    stack: Synthesized,
) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in stack.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert "$default" in routes
    integration_id, _ = stack.only("AWS::ApiGatewayV2::Integration")
    assert integration_id in str(routes["$default"]["Target"])
    assert stack.resources("AWS::ApiGatewayV2::Authorizer") == {}
    assert all(props.get("AuthorizationType", "NONE") == "NONE" for props in routes.values())


def test_routes_are_the_operations_the_docs_and_default(
    stack: Synthesized, spec: dict[str, Any]
) -> None:
    keys = {
        r["Properties"]["RouteKey"] for r in stack.resources("AWS::ApiGatewayV2::Route").values()
    }
    expected = {f"{method} {path}" for path, method, _ in operations(spec)}
    assert keys == expected | {route.key for route in DOCS_ROUTES} | {"$default"}


def test_every_operation_declares_the_gateway_error_shape(spec: dict[str, Any]) -> None:
    schema = spec["components"]["schemas"]["GatewayError"]
    assert schema["required"] == ["message"]
    assert schema["properties"]["message"]["type"] == "string"
    for path, method, operation in operations(spec):
        for status in ("413", "429", "500", "503"):
            content = resolve(spec, operation["responses"][status])["content"]
            assert content[GATEWAY_JSON]["schema"] == {
                "$ref": "#/components/schemas/GatewayError"
            }, f"{method} {path} {status}"


# The check itself can fail: each edit of the template below is an answer the spec lacks.


def _route(template: dict[str, Any], key: str) -> dict[str, Any]:
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::ApiGatewayV2::Route":
            props: dict[str, Any] = resource["Properties"]
            if props["RouteKey"] == key:
                return props
    raise KeyError(key)


def test_a_template_without_the_default_route_is_caught(
    stack: Synthesized, spec: dict[str, Any]
) -> None:
    template = copy.deepcopy(stack.template)
    template["Resources"] = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource.get("Properties", {}).get("RouteKey") != "$default"
    }
    gaps = undeclared(template, spec)
    assert gaps["PUT /currencies/{code}"] == [("404", GATEWAY_JSON)]
    assert gaps["GET /health"] == [("404", GATEWAY_JSON)]


def test_an_authorizer_on_a_public_operation_or_on_default_is_caught(
    stack: Synthesized, spec: dict[str, Any]
) -> None:
    template = copy.deepcopy(stack.template)
    _route(template, "GET /health")["AuthorizationType"] = "JWT"
    assert undeclared(template, spec) == {"GET /health": [("401", GATEWAY_JSON)]}
    template = copy.deepcopy(stack.template)
    _route(template, "$default")["AuthorizationType"] = "JWT"
    assert "GET /health" in undeclared(template, spec)


def test_route_scopes_are_caught_as_an_undeclared_403(
    authorizer_template: dict[str, Any], spec: dict[str, Any]
) -> None:
    template = copy.deepcopy(authorizer_template)
    _route(template, "POST /currencies")["AuthorizationScopes"] = ["currencies/write"]
    assert undeclared(template, spec) == {"POST /currencies": [("403", GATEWAY_JSON)]}


def test_an_operation_missing_a_gateway_answer_is_caught(
    stack: Synthesized, spec: dict[str, Any]
) -> None:
    edited = copy.deepcopy(spec)
    del edited["paths"]["/health"]["get"]["responses"]["429"]
    assert undeclared(stack.template, edited) == {"GET /health": [("429", GATEWAY_JSON)]}
