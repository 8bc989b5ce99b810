"""The per-operation plan that calls handlers (connexion_extensions.OnceAsyncOperation) gives
them the same arguments Connexion's own decorator chain gives, and handlers the plan does not
cover (synchronous, ``**kwargs``) still go through that chain."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.resolver import Resolver
from starlette.testclient import TestClient

from currency_api import connexion_extensions

SEEN: dict[str, Any] = {}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "plan", "version": "1"},
    "paths": {
        "/items/{number}": {
            "parameters": [
                {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "post": {
                "operationId": "planned",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 7}},
                    {"name": "tag", "in": "query", "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"name": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "created"}},
            },
        },
        "/sync/{number}": {
            "get": {
                "operationId": "synchronous",
                "parameters": [
                    {
                        "name": "number",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/any/{number}": {
            "get": {
                "operationId": "anything",
                "parameters": [
                    {
                        "name": "number",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {"name": "flag", "in": "query", "schema": {"type": "boolean"}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}


async def planned(
    number: int, body: dict[str, Any], limit: int, tag: str | None = None
) -> tuple[Any, int, dict[str, str]]:
    SEEN["planned"] = {"number": number, "body": body, "limit": limit, "tag": tag}
    return {"number": number}, 201, {"Content-Type": "application/json"}


def synchronous(number: int) -> dict[str, Any]:
    SEEN["synchronous"] = {"number": number}
    return {"number": number}


async def anything(**kwargs: Any) -> dict[str, Any]:
    SEEN["anything"] = kwargs
    return {"keys": sorted(kwargs)}


HANDLERS = {"planned": planned, "synchronous": synchronous, "anything": anything}


@pytest.fixture
def client() -> TestClient:
    app = connexion_extensions.CurrencyAsyncApp(
        __name__, middlewares=connexion_extensions.middlewares(lifespan=True)
    )
    app.add_api(SPEC, resolver=Resolver(function_resolver=HANDLERS.__getitem__))
    SEEN.clear()
    return TestClient(app)


def test_a_planned_handler_gets_cast_path_and_query_values_defaults_and_the_body(
    client: TestClient,
) -> None:
    response = client.post("/items/42?tag=x", json={"name": "n"})
    assert response.status_code == 201
    assert response.json() == {"number": 42}
    assert SEEN["planned"] == {"number": 42, "body": {"name": "n"}, "limit": 7, "tag": "x"}
    operation = _operation(client, "planned")
    assert operation.plan is not None


def test_a_query_value_given_replaces_the_default_and_is_cast(client: TestClient) -> None:
    assert client.post("/items/1?limit=3", json={}).status_code == 201
    assert SEEN["planned"]["limit"] == 3
    assert SEEN["planned"]["tag"] is None


def test_a_synchronous_handler_is_called_through_connexions_chain(client: TestClient) -> None:
    response = client.get("/sync/5")
    assert response.status_code == 200
    assert response.json() == {"number": 5}
    assert SEEN["synchronous"] == {"number": 5}
    assert _operation(client, "synchronous").plan is None


def test_a_handler_taking_kwargs_is_called_through_connexions_chain(client: TestClient) -> None:
    response = client.get("/any/9?flag=true")
    assert response.status_code == 200
    assert SEEN["anything"]["number"] == 9
    assert SEEN["anything"]["flag"] is True
    assert _operation(client, "anything").plan is None


def _operation(client: TestClient, operation_id: str) -> connexion_extensions.OnceAsyncOperation:
    app: Any = client.app
    middleware_app: Any = app._middleware_app
    for api in (api for apis in middleware_app.apis.values() for api in apis):
        operation = api.operations.get(operation_id)
        if operation is not None:
            assert isinstance(operation, connexion_extensions.OnceAsyncOperation)
            return operation
    raise AssertionError(f"no operation {operation_id}")
