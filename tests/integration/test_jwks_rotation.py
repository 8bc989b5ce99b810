"""Key rotation and JWKS outages, against a JWKS endpoint the test controls.

The app is built as in production (create_app, Authenticator, JwksCache over HTTP); only the
JWKS URL and the issuer point at the test's own server, and where the refetch interval
matters the cache gets a clock the test advances instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from currency_api import local
from currency_api.app import create_app
from currency_api.auth import Authenticator, JwksCache
from currency_api.store import CurrencyStore
from tests import tokens
from tests.jwks_server import JwksServer
from tests.ports import free_port
from tests.problems import assert_problem

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Rotation"
INTERVAL = 300


class Clock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


AppFactory = Callable[..., TestClient]


@pytest.fixture
def app_on(cognito: local.LocalCognito, store: CurrencyStore) -> Iterator[AppFactory]:
    """Builds the app with COGNITO_JWKS_URL at ``url``; with a clock, the cache uses it."""
    clients: list[TestClient] = []

    def build(url: str, clock: Clock | None = None) -> TestClient:
        settings = local.settings_for(
            cognito,
            table_name=store.table_name,
            cognito_issuer=ISSUER,
            cognito_jwks_url=url,
            jwks_refetch_interval_seconds=INTERVAL,
        )
        authenticator = None
        if clock is not None:
            cache = JwksCache(url, refetch_interval=INTERVAL, clock=clock)
            authenticator = Authenticator(settings, jwks=cache)
        client = TestClient(
            create_app(settings, store=store, authenticator=authenticator),
            raise_server_exceptions=False,
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def user_token(cognito: local.LocalCognito, key_name: str) -> dict[str, str]:
    """Authorization header with a user's access token signed by the named key (kid = name)."""
    claims = tokens.access_claims(ISSUER, cognito.public_client_id, username="alice")
    token = tokens.sign(claims, tokens.other_rsa_key(key_name), key_name)
    return {"Authorization": f"Bearer {token}"}


def jwk(key_name: str) -> dict[str, object]:
    return tokens.public_jwk(tokens.other_rsa_key(key_name), key_name)


def assert_unavailable(response: httpx.Response) -> None:
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"


def test_token_signed_by_a_key_published_after_start_is_accepted_after_one_refetch(
    jwks: JwksServer, clock: Clock, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    jwks.keys = [jwk("old")]
    client = app_on(jwks.url, clock)
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200
    assert jwks.hits == 1

    jwks.keys = [jwk("old"), jwk("new")]  # Cognito publishes the next key
    clock.advance(INTERVAL)
    assert client.get("/currencies", headers=user_token(cognito, "new")).status_code == 200
    assert jwks.hits == 2
    assert client.get("/currencies", headers=user_token(cognito, "new")).status_code == 200
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200
    assert jwks.hits == 2


def test_unknown_kids_refetch_the_jwks_at_most_once_per_interval(
    jwks: JwksServer, clock: Clock, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    jwks.keys = [jwk("old")]
    client = app_on(jwks.url, clock)
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200
    # Right after the first fetch, an unknown kid does not refetch.
    assert client.get("/currencies", headers=user_token(cognito, "forged")).status_code == 401
    assert jwks.hits == 1

    clock.advance(INTERVAL)
    for _ in range(5):
        assert client.get("/currencies", headers=user_token(cognito, "forged")).status_code == 401
    assert jwks.hits == 2

    clock.advance(INTERVAL - 1)
    assert client.get("/currencies", headers=user_token(cognito, "forged")).status_code == 401
    assert jwks.hits == 2
    clock.advance(1)
    assert client.get("/currencies", headers=user_token(cognito, "forged")).status_code == 401
    assert jwks.hits == 3


def test_jwks_outage_keeps_the_cached_keys(
    jwks: JwksServer, clock: Clock, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    jwks.keys = [jwk("old")]
    client = app_on(jwks.url, clock)
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200

    jwks.mode = "error"
    clock.advance(INTERVAL)
    # The unknown kid makes the cache refetch, which fails: the token is refused, not a 503...
    assert client.get("/currencies", headers=user_token(cognito, "new")).status_code == 401
    assert jwks.hits == 2
    # ...and the keys fetched before the outage still work.
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200


def test_key_removed_from_the_jwks_is_refused_after_the_next_refetch(
    jwks: JwksServer, clock: Clock, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    jwks.keys = [jwk("old")]
    client = app_on(jwks.url, clock)
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200

    jwks.keys = [jwk("new")]  # "old" was retired
    clock.advance(INTERVAL)
    assert client.get("/currencies", headers=user_token(cognito, "new")).status_code == 200
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 401


def test_no_keys_and_jwks_down_is_503_with_retry_after_until_it_recovers(
    jwks: JwksServer, clock: Clock, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    jwks.mode = "error"
    client = app_on(jwks.url, clock)
    assert_unavailable(client.get("/currencies", headers=user_token(cognito, "old")))
    assert jwks.hits == 1
    # Within the retry pause the answer comes at once, without another fetch.
    assert_unavailable(client.get("/currencies", headers=user_token(cognito, "old")))
    assert jwks.hits == 1

    jwks.mode = "up"
    jwks.keys = [jwk("old")]
    clock.advance(1)
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200
    assert jwks.hits == 2


def test_jwks_refusing_connections_at_start_is_503(
    app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    client = app_on(f"http://127.0.0.1:{free_port()}/pool/.well-known/jwks.json")
    assert_unavailable(client.get("/currencies", headers=user_token(cognito, "old")))


def test_jwks_without_usable_keys_is_503_not_500(
    jwks: JwksServer, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    jwks.keys = [{"kty": "RSA", "kid": "broken", "use": "sig"}]  # no modulus, no exponent
    client = app_on(jwks.url)
    assert_unavailable(client.get("/currencies", headers=user_token(cognito, "old")))


@pytest.mark.timeout(30)
def test_hanging_jwks_endpoint_gets_503_instead_of_a_hung_request(
    jwks: JwksServer, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    jwks.mode = "hang"
    client = app_on(jwks.url)  # the production cache and its fetch timeout
    assert_unavailable(client.get("/currencies", headers=user_token(cognito, "old")))
    assert jwks.hits == 1


def test_a_token_naming_a_published_key_that_is_not_rsa_is_refused_with_401(
    jwks: JwksServer, app_on: AppFactory, cognito: local.LocalCognito
) -> None:
    # A JWKS may hold other key types (RFC 7517); a token claiming RS256 under an EC key's
    # kid is an invalid token, not a server error.
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    ec_jwk = {
        **ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key(), as_dict=True),
        "kid": "ec",
        "alg": "ES256",
        "use": "sig",
    }
    jwks.keys = [jwk("old"), ec_jwk]
    client = app_on(jwks.url)
    claims = tokens.access_claims(ISSUER, cognito.public_client_id, username="alice")
    token = tokens.sign(claims, tokens.other_rsa_key("old"), "ec")
    response = client.get("/currencies", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)
    assert client.get("/currencies", headers=user_token(cognito, "old")).status_code == 200
