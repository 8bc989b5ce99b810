"""Auth is never switched off: every secured operation of the spec refuses anonymous callers."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from currency_api import local
from tests.conftest import euro
from tests.spec_operations import Operation, load_spec, operations, secured_operations


def test_the_spec_secures_every_operation_but_health() -> None:
    public = {op.operation_id for op in operations() if not op.security}
    assert public == {"getHealth"}


@pytest.mark.parametrize("operation", secured_operations(), ids=str)
def test_secured_operation_rejects_anonymous_callers_with_401(
    client: TestClient, operation: Operation
) -> None:
    response = client.request(operation.method.upper(), operation.example_path(), json=euro())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="currency-api"'


@pytest.mark.parametrize("operation", secured_operations(), ids=str)
def test_secured_operation_rejects_a_garbage_token_with_401(
    client: TestClient, operation: Operation
) -> None:
    response = client.request(
        operation.method.upper(),
        operation.example_path(),
        json=euro(),
        headers={"Authorization": "Bearer not.a.jwt"},
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_reader_may_read_but_not_write(client: TestClient, reader: dict[str, str]) -> None:
    assert client.get("/currencies", headers=reader).status_code == 200
    response = client.post("/currencies", json=euro(), headers=reader)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_service_token_scopes_decide_reads_and_writes(
    client: TestClient, cognito: local.LocalCognito
) -> None:
    read_only = {
        "Authorization": f"Bearer {local.mint_service_token(cognito, ['currencies/read'])}"
    }
    writer = {"Authorization": f"Bearer {local.mint_service_token(cognito, ['currencies/write'])}"}
    none = {"Authorization": f"Bearer {local.mint_service_token(cognito, [])}"}
    assert client.get("/currencies", headers=read_only).status_code == 200
    assert client.post("/currencies", json=euro(), headers=read_only).status_code == 403
    created = client.post("/currencies", json=euro(), headers=writer)
    assert created.status_code == 201
    assert created.json()["createdBy"] == cognito.service_client_id
    assert client.get("/currencies/EUR", headers=writer).status_code == 200
    assert client.get("/currencies", headers=none).status_code == 403


def test_admin_user_writes_are_attributed_to_the_user(
    client: TestClient, admin: dict[str, str], admin_token: str
) -> None:
    import jwt

    subject = jwt.decode(admin_token, options={"verify_signature": False})["sub"]
    created = client.post("/currencies", json=euro(), headers=admin).json()
    assert created["createdBy"] == created["updatedBy"] == subject


def test_every_secured_operation_offers_bearer_alone_first_then_the_oauth2_scopes() -> None:
    # Swagger UI locks an operation's padlock when one alternative is authorized: a pasted
    # bearer token then authorizes every operation, and the OAuth 2.0 scopes stay declared.
    schemes = load_spec()["components"]["securitySchemes"]
    assert next(iter(schemes)) == "bearerAuth"
    for operation in secured_operations():
        assert operation.security[0] == {"bearerAuth": []}, operation
        assert all(len(req) == 1 for req in operation.security), operation
        assert operation.scope_sets, operation
        assert all(operation.scope_sets), operation


def _callers(
    cognito: local.LocalCognito, reader: dict[str, str]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Tokens by name, with the API scopes each one is granted."""
    return {
        "reader user": (reader["Authorization"], ("currencies/read",)),
        "read service": (
            f"Bearer {local.mint_service_token(cognito, ['currencies/read'])}",
            ("currencies/read",),
        ),
        "scopeless service": (f"Bearer {local.mint_service_token(cognito, [])}", ()),
    }


@pytest.mark.parametrize("operation", secured_operations(), ids=str)
def test_secured_operation_refuses_with_403_every_token_without_its_scopes(
    client: TestClient,
    operation: Operation,
    cognito: local.LocalCognito,
    reader: dict[str, str],
    admin: dict[str, str],
) -> None:
    # The bearer alternative has no scopes in OpenAPI 3.0: the app must still hold it to the
    # scopes of the operation's oauth2 alternative, or any valid token would pass.
    assert client.post("/currencies", json=euro(), headers=admin).status_code == 201
    refused = 0
    for name, (header, grants) in _callers(cognito, reader).items():
        allowed = any(required <= set(grants) for required in operation.scope_sets)
        response = client.request(
            operation.method.upper(),
            operation.example_path(),
            json=euro(),
            headers={"Authorization": header},
        )
        if allowed:
            assert response.status_code not in (401, 403), name
            continue
        refused += 1
        assert response.status_code == 403, name
        assert response.headers["content-type"] == "application/problem+json"
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"], name
    # Every write is refused to all three; every read to the scopeless service at least.
    assert refused == (1 if operation.scope_sets == [frozenset({"currencies/read"})] else 3)
