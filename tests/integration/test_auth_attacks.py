"""The attack matrix: every forged, foreign, stale or malformed credential is refused.

Each case is its own test. Every refusal is a 401 (or 403) problem+json with an RFC 6750
challenge, never a 500, and its body is the same for every kind of bad token, so it says
nothing about which check failed. Forged tokens are signed with real keys: moto's own
signing key (which the emulator's JWKS publishes) or freshly generated RSA keys.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from starlette.testclient import TestClient

from currency_api import local
from tests import tokens
from tests.conftest import euro
from tests.problems import assert_problem

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.client import CognitoIdentityProviderClient

PROBLEM_JSON = "application/problem+json"
NO_TOKEN_CHALLENGE = 'Bearer realm="currency-api"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="currency-api", error="invalid_token"'
#: The one body every bad token gets, whatever was wrong with it.
INVALID_TOKEN_BODY = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The access token is not valid.",
}
NO_TOKEN_BODY = {**INVALID_TOKEN_BODY, "detail": "An access token is required."}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(response: httpx.Response) -> None:
    """401, RFC 6750 ``invalid_token``, and the same body as every other bad token."""
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == INVALID_TOKEN_CHALLENGE
    assert response.json() == INVALID_TOKEN_BODY


def assert_no_token(response: httpx.Response) -> None:
    """401 with a bare challenge: RFC 6750 section 3.1 gives no error code when the request
    carries no bearer credentials."""
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == NO_TOKEN_CHALLENGE
    assert response.json() == NO_TOKEN_BODY


def assert_insufficient_scope(response: httpx.Response) -> None:
    assert_problem(response, 403)
    assert response.headers["www-authenticate"] == (
        'Bearer realm="currency-api", error="insufficient_scope", scope="currencies/write"'
    )
    assert response.json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "The access token does not grant this operation.",
    }


@pytest.fixture(scope="module")
def admin_claims(admin_token: str) -> dict[str, Any]:
    """The claims of a genuine admin access token: the shape forged tokens copy."""
    return tokens.claims_of(admin_token)


def forged(claims: dict[str, Any], **changes: Any) -> str:
    """A token with ``claims`` and ``changes``, signed with moto's real key and kid."""
    return tokens.sign({**claims, **changes}, local.moto_private_key(), local.MOTO_KID)


@pytest.fixture(scope="module")
def other_pool_token(cognito_client: CognitoIdentityProviderClient) -> str:
    """A genuine access token of a second pool in the same emulator (same signing key)."""
    pool = cognito_client.create_user_pool(PoolName="someone-elses-pool")["UserPool"]["Id"]
    client_id = cognito_client.create_user_pool_client(
        UserPoolId=pool, ClientName="theirs", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    password = "Other-pool-Passw0rd!"
    cognito_client.admin_create_user(UserPoolId=pool, Username="mallory", MessageAction="SUPPRESS")
    cognito_client.admin_set_user_password(
        UserPoolId=pool, Username="mallory", Password=password, Permanent=True
    )
    result = cognito_client.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mallory", "PASSWORD": password},
    )
    return result["AuthenticationResult"]["AccessToken"]


@pytest.fixture(scope="module")
def admin_sign_in(
    cognito_client: CognitoIdentityProviderClient, cognito: local.LocalCognito
) -> dict[str, Any]:
    """The whole AuthenticationResult of the admin's password sign-in (access and ID token)."""
    result = cognito_client.initiate_auth(
        ClientId=cognito.public_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": cognito.admin_username, "PASSWORD": cognito.password},
    )
    return dict(result["AuthenticationResult"])


@pytest.fixture(scope="module")
def unknown_client_token(
    cognito_client: CognitoIdentityProviderClient, cognito: local.LocalCognito
) -> str:
    """A genuine access token of our own pool, issued to an app client the API does not list."""
    client_id = cognito_client.create_user_pool_client(
        UserPoolId=cognito.user_pool_id,
        ClientName="not-configured-in-the-api",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    result = cognito_client.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": cognito.admin_username, "PASSWORD": cognito.password},
    )
    return result["AuthenticationResult"]["AccessToken"]


# Missing or malformed credentials


def test_request_without_authorization_header_gets_401_without_error_code(
    client: TestClient,
) -> None:
    assert_no_token(client.get("/currencies"))


def test_bearer_without_a_token_gets_401(client: TestClient) -> None:
    assert_no_token(client.get("/currencies", headers={"Authorization": "Bearer"}))


def test_bearer_with_only_spaces_gets_401(client: TestClient) -> None:
    assert_no_token(client.get("/currencies", headers={"Authorization": "Bearer    "}))


def test_non_jwt_string_gets_401(client: TestClient) -> None:
    assert_invalid_token(client.get("/currencies", headers=bearer("this-is-not-a-jwt")))


def test_three_segments_of_garbage_get_401(client: TestClient) -> None:
    assert_invalid_token(client.get("/currencies", headers=bearer("a.b.c")))


def test_basic_authentication_is_not_accepted(client: TestClient) -> None:
    # base64("admin:password"): a scheme the API does not offer counts as no credentials.
    response = client.get("/currencies", headers={"Authorization": "Basic YWRtaW46cGFzc3dvcmQ="})
    assert_no_token(response)


def test_token_in_query_string_is_not_accepted(client: TestClient, admin_token: str) -> None:
    # RFC 6750 section 2.3 (URI query parameter) is optional and not offered: tokens in URLs
    # end up in logs.
    assert_no_token(client.get("/currencies", params={"access_token": admin_token}))


def test_token_in_form_body_is_not_accepted(client: TestClient, admin_token: str) -> None:
    response = client.post(
        "/currencies",
        content=f"access_token={admin_token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_no_token(response)


def test_lower_case_bearer_scheme_is_accepted(client: TestClient, reader_token: str) -> None:
    # Authentication schemes are case-insensitive (RFC 9110 section 11.1).
    response = client.get("/currencies", headers={"Authorization": f"bearer {reader_token}"})
    assert response.status_code == 200


def test_extra_spaces_between_scheme_and_token_are_accepted(
    client: TestClient, reader_token: str
) -> None:
    # RFC 9110 section 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
    response = client.get("/currencies", headers={"Authorization": f"Bearer   {reader_token}"})
    assert response.status_code == 200


def test_a_token_split_by_a_space_gets_401(client: TestClient, reader_token: str) -> None:
    header, payload, signature = reader_token.split(".")
    broken = f"{header}.{payload} .{signature}"
    assert_invalid_token(client.get("/currencies", headers=bearer(broken)))


# Forged signatures and algorithms


def test_alg_none_token_gets_401(client: TestClient, admin_claims: dict[str, Any]) -> None:
    assert_invalid_token(
        client.post("/currencies", json=euro(), headers=bearer(tokens.unsecured(admin_claims)))
    )


def test_hs256_token_keyed_with_the_public_key_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    public_pem = (
        local.moto_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = tokens.hs256(admin_claims, public_pem, local.MOTO_KID)
    assert_invalid_token(client.post("/currencies", json=euro(), headers=bearer(token)))


def test_tampered_payload_with_the_original_signature_gets_401(
    client: TestClient, reader_token: str
) -> None:
    claims = tokens.claims_of(reader_token)
    promoted = tokens.with_payload(reader_token, {**claims, "cognito:groups": ["currency-admins"]})
    assert_invalid_token(client.post("/currencies", json=euro(), headers=bearer(promoted)))


def test_token_signed_by_a_key_outside_the_jwks_with_our_kid_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    token = tokens.sign(admin_claims, tokens.other_rsa_key("attacker"), local.MOTO_KID)
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_unknown_kid_gets_401(client: TestClient, admin_claims: dict[str, Any]) -> None:
    token = tokens.sign(admin_claims, local.moto_private_key(), "rotated-away-key")
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_token_without_kid_gets_401(client: TestClient, admin_claims: dict[str, Any]) -> None:
    token = jwt.encode(admin_claims, local.moto_private_key(), algorithm="RS256")
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_rs512_token_with_a_real_key_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    token = jwt.encode(
        admin_claims, local.moto_private_key(), algorithm="RS512", headers={"kid": "dummy"}
    )
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


# Genuine signatures, wrong token


def test_wrong_issuer_signed_with_the_real_key_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    token = forged(admin_claims, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil")
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_issuer_with_trailing_slash_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    token = forged(admin_claims, iss=admin_claims["iss"] + "/")
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_another_pools_token_gets_401(client: TestClient, other_pool_token: str) -> None:
    assert_invalid_token(client.get("/currencies", headers=bearer(other_pool_token)))


def test_id_token_from_the_same_sign_in_gets_401(
    client: TestClient, admin_sign_in: dict[str, Any]
) -> None:
    # Proof the sign-in itself is good: its access token is accepted.
    assert (
        client.get("/currencies", headers=bearer(admin_sign_in["AccessToken"])).status_code == 200
    )
    assert_invalid_token(client.get("/currencies", headers=bearer(admin_sign_in["IdToken"])))


def test_id_token_claims_with_client_id_added_get_401(
    client: TestClient, admin_sign_in: dict[str, Any], cognito: local.LocalCognito
) -> None:
    claims = tokens.claims_of(admin_sign_in["IdToken"])
    token = forged(claims, client_id=cognito.public_client_id)
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_unknown_client_id_of_our_own_pool_gets_401(
    client: TestClient, unknown_client_token: str
) -> None:
    assert_invalid_token(client.get("/currencies", headers=bearer(unknown_client_token)))


def test_expired_token_beyond_leeway_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    now = int(time.time())
    token = forged(admin_claims, iat=now - 3700, auth_time=now - 3700, exp=now - 100)
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_token_expired_within_leeway_is_accepted(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    now = int(time.time())
    token = forged(admin_claims, iat=now - 3605, auth_time=now - 3605, exp=now - 5)
    assert client.get("/currencies", headers=bearer(token)).status_code == 200


def test_nbf_in_the_future_gets_401(client: TestClient, admin_claims: dict[str, Any]) -> None:
    token = forged(admin_claims, nbf=int(time.time()) + 120)
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_iat_in_the_future_beyond_leeway_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    now = int(time.time())
    token = forged(admin_claims, iat=now + 120, exp=now + 3720)
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_token_without_exp_gets_401(client: TestClient, admin_claims: dict[str, Any]) -> None:
    claims = {k: v for k, v in admin_claims.items() if k != "exp"}
    assert_invalid_token(client.get("/currencies", headers=bearer(forged(claims))))


def test_token_use_other_than_access_gets_401(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    token = forged(admin_claims, token_use="refresh")
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


# Valid tokens that do not grant the operation


def test_user_outside_admin_group_gets_403_on_a_write(
    client: TestClient, reader: dict[str, str]
) -> None:
    assert_insufficient_scope(client.post("/currencies", json=euro(), headers=reader))
    assert_insufficient_scope(client.delete("/currencies/EUR", headers=reader))


def test_service_token_with_only_read_scope_gets_403_on_a_write(
    client: TestClient, cognito: local.LocalCognito
) -> None:
    token = local.mint_service_token(cognito, ["currencies/read"])
    assert_insufficient_scope(client.post("/currencies", json=euro(), headers=bearer(token)))


def test_service_token_cannot_claim_the_admin_group(
    client: TestClient, cognito: local.LocalCognito
) -> None:
    # The group rule is for users; a client credentials token carries no username.
    claims = tokens.claims_of(local.mint_service_token(cognito, ["currencies/read"]))
    token = forged(claims, **{"cognito:groups": ["currency-admins"]})
    assert_insufficient_scope(client.post("/currencies", json=euro(), headers=bearer(token)))


# What the refusals leave behind


def test_refused_tokens_are_not_written_to_the_logs(
    client: TestClient, admin_claims: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    token = forged(admin_claims, iss="https://issuer.example/evil")
    with caplog.at_level(logging.DEBUG):
        assert_invalid_token(client.get("/currencies", headers=bearer(token)))
    assert caplog.records, "the refusal should be logged"
    signature = token.rsplit(".", 1)[1]
    assert all(signature not in record.getMessage() for record in caplog.records)


# Claims of the wrong JSON type, in a token signed with the real key


@pytest.mark.parametrize(
    "groups",
    ["x currency-admins", "[currency-admins]", "currency-admins", [["currency-admins"]], [1], {}],
    ids=["spaced-string", "gateway-flattened", "bare-string", "nested-list", "number", "object"],
)
def test_cognito_groups_that_are_not_a_list_of_strings_get_401(
    client: TestClient, admin_claims: dict[str, Any], groups: Any
) -> None:
    # A string form exists only in API Gateway's flattened claims (trust-gateway mode).
    token = forged(admin_claims, **{"cognito:groups": groups})
    assert_invalid_token(client.post("/currencies", json=euro(), headers=bearer(token)))


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "auth_time"])
@pytest.mark.parametrize("form", ["numeric-string", "boolean", "null"])
def test_numeric_date_claims_that_are_not_json_numbers_get_401(
    client: TestClient, admin_claims: dict[str, Any], claim: str, form: str
) -> None:
    now = int(time.time())
    value = {"exp": now + 3600, "iat": now, "nbf": now, "auth_time": now}[claim]
    typed = {"numeric-string": str(value), "boolean": True, "null": None}[form]
    token = forged(admin_claims, **{claim: typed})
    assert_invalid_token(client.get("/currencies", headers=bearer(token)))


def test_numeric_dates_as_json_numbers_with_a_fraction_are_accepted(
    client: TestClient, admin_claims: dict[str, Any]
) -> None:
    # RFC 7519 section 2: a NumericDate may be non-integer.
    now = time.time()
    token = forged(admin_claims, exp=now + 3600.5, iat=now - 0.5, nbf=now - 1.5, auth_time=now)
    assert client.get("/currencies", headers=bearer(token)).status_code == 200
