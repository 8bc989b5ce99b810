"""Auth is never switched off: every secured operation of the spec refuses anonymous callers."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from currency_api import local
from tests.conftest import euro
from tests.spec_operations import Operation, operations, secured_operations


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
