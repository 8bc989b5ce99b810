"""The verified-token cache: it never answers what full verification would refuse.

Tokens are real: moto Cognito's own access tokens from password sign-in, tokens signed with
moto's key (which its JWKS publishes), and tokens signed with keys a test JWKS server
publishes, fetched over HTTP. Every request goes through the whole app.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from currency_api import local
from currency_api.app import create_app
from currency_api.auth import (
    LEEWAY_SECONDS,
    Authenticator,
    InvalidToken,
    JwksCache,
    VerifiedTokenCache,
)
from currency_api.settings import Settings
from currency_api.store import CurrencyStore
from tests import tokens
from tests.jwks_server import JwksServer

ROTATION_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TokenCache"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def moto_signed(cognito: local.LocalCognito, **claims: Any) -> str:
    """A user's access token of our pool, signed with moto's key and kid."""
    base = tokens.access_claims(
        cognito.issuer, cognito.public_client_id, username="alice", groups=(local.ADMIN_GROUP,)
    )
    return tokens.sign({**base, **claims}, local.moto_private_key(), local.MOTO_KID)


@pytest.fixture
def authenticator(settings: Settings) -> Authenticator:
    return Authenticator(settings)


@pytest.fixture
def client(
    settings: Settings, store: CurrencyStore, authenticator: Authenticator
) -> Iterator[TestClient]:
    app = create_app(settings, store=store, authenticator=authenticator)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_repeated_token_is_verified_once_then_answered_from_the_cache(
    client: TestClient, authenticator: Authenticator, admin_token: str
) -> None:
    cache = authenticator.token_cache
    for _ in range(3):
        assert client.get("/currencies", headers=bearer(admin_token)).status_code == 200
    assert (cache.misses, cache.hits, len(cache)) == (1, 2, 1)


def test_cached_principal_is_the_one_full_verification_gives(
    settings: Settings, authenticator: Authenticator, admin_token: str
) -> None:
    first = authenticator.verify(admin_token)
    assert authenticator.verify(admin_token) is first
    assert (
        Authenticator(settings, token_cache=VerifiedTokenCache(max_entries=0)).verify(admin_token)
        == first
    )


def test_token_that_expires_while_cached_is_refused_once_expired(
    client: TestClient, authenticator: Authenticator, cognito: local.LocalCognito
) -> None:
    # Valid for two to three more seconds: within the leeway after exp, as verification reads it.
    exp = int(time.time()) - LEEWAY_SECONDS + 3
    token = moto_signed(cognito, iat=exp - 120, exp=exp)
    assert client.get("/currencies", headers=bearer(token)).status_code == 200
    assert client.get("/currencies", headers=bearer(token)).status_code == 200
    assert authenticator.token_cache.hits == 1
    time.sleep(max(0.0, exp + LEEWAY_SECONDS + 0.2 - time.time()))
    refused = client.get("/currencies", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].endswith('error="invalid_token"')
    assert len(authenticator.token_cache) == 0


def test_token_that_is_not_yet_valid_is_never_cached(
    client: TestClient, authenticator: Authenticator, cognito: local.LocalCognito
) -> None:
    now = int(time.time())
    token = moto_signed(cognito, nbf=now + LEEWAY_SECONDS + 60)
    for _ in range(2):
        assert client.get("/currencies", headers=bearer(token)).status_code == 401
    assert len(authenticator.token_cache) == 0
    assert authenticator.token_cache.hits == 0


def test_token_one_bit_different_from_a_cached_one_never_hits(
    client: TestClient, authenticator: Authenticator, admin_token: str
) -> None:
    assert client.get("/currencies", headers=bearer(admin_token)).status_code == 200
    header, payload, signature = admin_token.split(".")
    middle = len(payload) // 2
    tampered_payload = payload[:middle] + chr(ord(payload[middle]) ^ 1) + payload[middle + 1 :]
    middle = len(signature) // 2
    tampered_signature = (
        signature[:middle] + chr(ord(signature[middle]) ^ 1) + signature[middle + 1 :]
    )
    for tampered in (
        f"{header}.{tampered_payload}.{signature}",
        f"{header}.{payload}.{tampered_signature}",
        admin_token[:-1] + chr(ord(admin_token[-1]) ^ 1),
    ):
        assert tampered != admin_token
        refused = client.get("/currencies", headers=bearer(tampered))
        assert refused.status_code == 401, tampered
    assert authenticator.token_cache.hits == 0
    assert len(authenticator.token_cache) == 1


def test_refused_tokens_are_not_cached_and_are_verified_again(
    client: TestClient,
    authenticator: Authenticator,
    cognito: local.LocalCognito,
    admin_token: str,
) -> None:
    wrong_issuer = moto_signed(cognito, iss="https://cognito-idp.us-east-1.amazonaws.com/other")
    id_token = moto_signed(cognito, token_use="id")
    for token in (wrong_issuer, id_token, wrong_issuer, id_token):
        assert client.get("/currencies", headers=bearer(token)).status_code == 401
    cache = authenticator.token_cache
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 4)
    assert client.get("/currencies", headers=bearer(admin_token)).status_code == 200
    assert len(cache) == 1


def test_cache_holds_at_most_its_entry_bound_evicting_the_least_recently_used(
    settings: Settings, cognito: local.LocalCognito
) -> None:
    cache = VerifiedTokenCache(max_entries=3)
    authenticator = Authenticator(settings, token_cache=cache)
    issued = [moto_signed(cognito, jti=f"token-{i}") for i in range(5)]
    for token in issued[:3]:
        authenticator.verify(token)
    authenticator.verify(issued[0])  # now the most recently used
    for token in issued[3:]:
        authenticator.verify(token)
    assert len(cache) == 3
    hits = cache.hits
    authenticator.verify(issued[0])
    assert cache.hits == hits + 1  # kept: it was used recently
    authenticator.verify(issued[1])
    assert cache.hits == hits + 1  # evicted
    assert len(cache) == 3
    assert cache.bytes == sum(len(t) for t in (issued[0], issued[1], issued[4]))


def test_cache_holds_at_most_its_byte_bound_and_never_a_token_over_the_token_bound(
    settings: Settings, cognito: local.LocalCognito
) -> None:
    token = moto_signed(cognito, jti="sized")
    cache = VerifiedTokenCache(max_entries=100, max_bytes=2 * len(token) + 10)
    authenticator = Authenticator(settings, token_cache=cache)
    issued = [moto_signed(cognito, jti=f"sized-{i}") for i in range(4)]
    for item in issued:
        authenticator.verify(item)
    assert len(cache) == 2
    assert cache.bytes <= cache.max_bytes

    padded = moto_signed(cognito, padding="x" * 9000)  # over the 8 KiB token bound
    small = VerifiedTokenCache()
    assert len(padded) > small.max_token_bytes
    other = Authenticator(settings, token_cache=small)
    other.verify(padded)
    other.verify(padded)
    assert (len(small), small.hits) == (0, 0)


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer().start()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def rotation_token(cognito: local.LocalCognito, key_name: str) -> str:
    claims = tokens.access_claims(ROTATION_ISSUER, cognito.public_client_id, username="alice")
    return tokens.sign(claims, tokens.other_rsa_key(key_name), key_name)


def test_key_rotation_empties_the_cache_and_a_retired_key_is_refused_at_once(
    jwks: JwksServer, cognito: local.LocalCognito, store: CurrencyStore
) -> None:
    jwks.keys = [tokens.public_jwk(tokens.other_rsa_key("cache-old"), "cache-old")]
    clock = Clock()
    settings = local.settings_for(
        cognito,
        table_name=store.table_name,
        cognito_issuer=ROTATION_ISSUER,
        cognito_jwks_url=jwks.url,
    )
    authenticator = Authenticator(settings, jwks=JwksCache(jwks.url, clock=clock))
    app = create_app(settings, store=store, authenticator=authenticator)
    old = rotation_token(cognito, "cache-old")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/currencies", headers=bearer(old)).status_code == 200
        assert client.get("/currencies", headers=bearer(old)).status_code == 200
        assert authenticator.token_cache.hits == 1

        # The pool rotates: the old key is retired. A token of the new key makes the app
        # refetch; the cached old token must not outlive its key.
        jwks.keys = [tokens.public_jwk(tokens.other_rsa_key("cache-new"), "cache-new")]
        clock.now += 300
        new = rotation_token(cognito, "cache-new")
        assert client.get("/currencies", headers=bearer(new)).status_code == 200
        assert len(authenticator.token_cache) == 1  # emptied, then the new token
        assert client.get("/currencies", headers=bearer(old)).status_code == 401
        assert authenticator.token_cache.hits == 1


def test_refetch_returning_the_same_keys_keeps_the_cache(
    jwks: JwksServer, cognito: local.LocalCognito
) -> None:
    jwks.keys = [tokens.public_jwk(tokens.other_rsa_key("cache-same"), "cache-same")]
    settings = local.settings_for(
        cognito, cognito_issuer=ROTATION_ISSUER, cognito_jwks_url=jwks.url
    )
    authenticator = Authenticator(settings)
    token = rotation_token(cognito, "cache-same")
    authenticator.verify(token)
    generation = authenticator.jwks.generation
    assert authenticator.jwks.refresh()
    assert authenticator.jwks.generation == generation
    authenticator.verify(token)
    assert authenticator.token_cache.hits == 1


def test_token_refused_for_an_unknown_key_is_accepted_once_the_key_is_published(
    jwks: JwksServer, cognito: local.LocalCognito
) -> None:
    jwks.keys = [tokens.public_jwk(tokens.other_rsa_key("cache-a"), "cache-a")]
    clock = Clock()
    settings = local.settings_for(
        cognito, cognito_issuer=ROTATION_ISSUER, cognito_jwks_url=jwks.url
    )
    authenticator = Authenticator(settings, jwks=JwksCache(jwks.url, clock=clock))
    authenticator.verify(rotation_token(cognito, "cache-a"))
    early = rotation_token(cognito, "cache-b")
    with pytest.raises(InvalidToken):
        authenticator.verify(early)
    jwks.keys = [*jwks.keys, tokens.public_jwk(tokens.other_rsa_key("cache-b"), "cache-b")]
    clock.now += 300
    assert authenticator.verify(early).username == "alice"
