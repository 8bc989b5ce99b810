"""Who called is recorded: createdBy and updatedBy are the token subjects, stored and returned."""

from __future__ import annotations

from starlette.testclient import TestClient

from currency_api import local
from currency_api.store import CurrencyStore
from tests import tokens
from tests.conftest import euro

MERGE_PATCH = "application/merge-patch+json"


def test_patch_by_another_caller_sets_updated_by_and_keeps_created_by(
    client: TestClient,
    admin: dict[str, str],
    admin_token: str,
    cognito: local.LocalCognito,
    store: CurrencyStore,
) -> None:
    admin_subject = tokens.claims_of(admin_token)["sub"]
    created = client.post("/currencies", json=euro(), headers=admin)
    assert created.status_code == 201
    service = {"Authorization": f"Bearer {local.mint_service_token(cognito, ['currencies/write'])}"}

    patched = client.patch(
        "/currencies/EUR",
        content=b'{"symbol": "\\u20ac"}',
        headers={**service, "Content-Type": MERGE_PATCH},
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["createdBy"] == admin_subject
    assert patched.json()["updatedBy"] == cognito.service_client_id
    read = client.get("/currencies/EUR", headers=admin).json()
    assert (read["createdBy"], read["updatedBy"]) == (admin_subject, cognito.service_client_id)
    stored = store.get("EUR")
    assert (stored["createdBy"], stored["updatedBy"]) == (admin_subject, cognito.service_client_id)


def test_put_by_another_caller_sets_updated_by_and_keeps_created_by(
    client: TestClient, admin: dict[str, str], admin_token: str, cognito: local.LocalCognito
) -> None:
    service = {"Authorization": f"Bearer {local.mint_service_token(cognito, ['currencies/write'])}"}
    assert client.post("/currencies", json=euro(), headers=service).status_code == 201

    replaced = client.put("/currencies/EUR", json=euro(name="Euro (replaced)"), headers=admin)

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["createdBy"] == cognito.service_client_id
    assert replaced.json()["updatedBy"] == tokens.claims_of(admin_token)["sub"]
