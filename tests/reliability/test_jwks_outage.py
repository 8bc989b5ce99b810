"""The JWKS endpoint down (through the fault proxy): cached keys keep working; with no keys
at all the answer is 503, not 401 or 500. Key rotation itself is tested with the auth tests."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jwt
from starlette.testclient import TestClient

from currency_api import local
from currency_api.app import create_app
from currency_api.auth import Authenticator, JwksCache
from currency_api.settings import Settings
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.reliability.proxy import FaultProxy


def _client_via(proxy: FaultProxy, settings: Settings, store: CurrencyStore) -> TestClient:
    jwks_url = f"{proxy.url}/{settings.cognito_user_pool_id}/.well-known/jwks.json"
    proxied = dataclasses.replace(settings, cognito_jwks_url=jwks_url)
    # No pause between fetch attempts while no key is cached, so recovery shows at once
    # (production waits up to a second: tests/integration/test_jwks_rotation.py).
    jwks = JwksCache(jwks_url, empty_retry_interval=0.0)
    app = create_app(proxied, store=store, authenticator=Authenticator(proxied, jwks))
    return TestClient(app, raise_server_exceptions=False)


def _token_with_unknown_kid(cognito: local.LocalCognito) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": cognito.service_client_id,
        "client_id": cognito.service_client_id,
        "token_use": "access",
        "scope": "currencies/read",
        "iss": cognito.issuer,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, local.moto_private_key(), "RS256", headers={"kid": "rotated-key"})


def test_cached_keys_keep_serving_while_the_jwks_endpoint_is_down(
    proxy: FaultProxy,
    settings: Settings,
    store: CurrencyStore,
    cognito: local.LocalCognito,
    admin: dict[str, str],
) -> None:
    store.create(euro(), "seed")
    client = _client_via(proxy, settings, store)
    assert client.get("/currencies/EUR", headers=admin).status_code == 200

    proxy.inject("reset")
    assert client.get("/currencies/EUR", headers=admin).status_code == 200
    unknown = {"Authorization": f"Bearer {_token_with_unknown_kid(cognito)}"}
    refused = client.get("/currencies/EUR", headers=unknown)
    assert refused.status_code == 401
    assert client.get("/currencies/EUR", headers=admin).status_code == 200


def test_no_keys_at_cold_start_is_a_503_then_recovers(
    proxy: FaultProxy, settings: Settings, store: CurrencyStore, admin: dict[str, str]
) -> None:
    proxy.inject("status", status=503, error_type="ServiceUnavailable")
    client = _client_via(proxy, settings, store)

    response = client.get("/currencies", headers=admin)

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    proxy.heal()
    assert client.get("/currencies", headers=admin).status_code == 200
