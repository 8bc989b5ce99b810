"""Who may call what, through lambda_handler with HTTP API v2.0 events and emulator tokens.

By default the function verifies the bearer token itself, even behind the JWT authorizer.
With TRUST_API_GATEWAY_CLAIMS it decides from ``requestContext.authorizer.jwt.claims``
instead, shaped as API Gateway delivers them: every value a string, arrays flattened to
``"[a b]"`` (API Gateway developer guide, "Controlling access to HTTP APIs with JWT
authorizers").
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from currency_api import local
from currency_api.store import CurrencyStore
from tests import tokens
from tests.conftest import euro
from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2
from tests.lambda_.test_lambda_handler import body_of

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.client import CognitoIdentityProviderClient

CONTEXT = LambdaContext()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_as_delivered(token: str, **changes: Any) -> dict[str, str]:
    return tokens.gateway_claims({**tokens.claims_of(token), **changes})


# Default: the function verifies the token itself


def test_reader_token_reads_through_lambda(
    handler: Handler, reader: dict[str, str], store: CurrencyStore
) -> None:
    store.create(euro(), "tester")
    result = handler(http_api_v2("GET", "/currencies/EUR", headers=reader), CONTEXT)
    assert result["statusCode"] == 200
    assert body_of(result)["code"] == "EUR"


def test_reader_token_write_through_lambda_is_403(handler: Handler, reader: dict[str, str]) -> None:
    result = handler(http_api_v2("POST", "/currencies", headers=reader, body=euro()), CONTEXT)
    assert result["statusCode"] == 403
    assert result["headers"]["content-type"] == "application/problem+json"
    assert 'error="insufficient_scope"' in result["headers"]["www-authenticate"]


def test_admin_token_writes_through_lambda_as_the_admin(
    handler: Handler, admin: dict[str, str], admin_token: str
) -> None:
    result = handler(http_api_v2("POST", "/currencies", headers=admin, body=euro()), CONTEXT)
    assert result["statusCode"] == 201, result
    assert body_of(result)["createdBy"] == tokens.claims_of(admin_token)["sub"]


def test_service_token_with_write_scope_writes_through_lambda(
    handler: Handler, cognito: local.LocalCognito
) -> None:
    token = local.mint_service_token(cognito, ["currencies/write"])
    event = http_api_v2("POST", "/currencies", headers=bearer(token), body=euro())
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 201, result
    assert body_of(result)["createdBy"] == cognito.service_client_id


def test_default_mode_ignores_authorizer_claims_and_verifies_the_token(
    handler: Handler, reader_token: str, admin_token: str
) -> None:
    # Claims say admin, the token says reader: the token decides.
    event = http_api_v2(
        "POST",
        "/currencies",
        headers=bearer(reader_token),
        body=euro(),
        claims=claims_as_delivered(admin_token),
    )
    assert handler(event, CONTEXT)["statusCode"] == 403


def test_default_mode_refuses_a_bad_token_even_with_authorizer_claims(
    handler: Handler, admin_token: str
) -> None:
    event = http_api_v2(
        "GET", "/currencies", headers=bearer("not.a.jwt"), claims=claims_as_delivered(admin_token)
    )
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 401
    assert 'error="invalid_token"' in result["headers"]["www-authenticate"]


# TRUST_API_GATEWAY_CLAIMS: the function decides from the authorizer's claims


@pytest.fixture
def gateway_handler(
    monkeypatch: pytest.MonkeyPatch,
    lambda_env: dict[str, str],
    import_lambda_function: Callable[[], ModuleType],
) -> Iterator[Handler]:
    monkeypatch.setenv("TRUST_API_GATEWAY_CLAIMS", "true")
    module = import_lambda_function()
    yield module.lambda_handler
    sys.modules.pop("currency_api.lambda_function", None)


def behind_authorizer(
    method: str, path: str, token: str, claims: dict[str, str] | None, body: Any = None
) -> dict[str, Any]:
    """An event as API Gateway forwards it: the Authorization header and the claims."""
    return http_api_v2(method, path, headers=bearer(token), body=body, claims=claims)


def test_gateway_mode_reads_the_flattened_admin_group_and_allows_a_write(
    gateway_handler: Handler, admin_token: str
) -> None:
    claims = claims_as_delivered(admin_token)
    assert claims["cognito:groups"] == "[currency-admins]"
    result = gateway_handler(
        behind_authorizer("POST", "/currencies", admin_token, claims, euro()), CONTEXT
    )
    assert result["statusCode"] == 201, result
    assert body_of(result)["createdBy"] == claims["sub"]


def test_gateway_mode_reads_one_of_several_flattened_groups(
    gateway_handler: Handler, admin_token: str
) -> None:
    claims = claims_as_delivered(admin_token, **{"cognito:groups": ["auditors", "currency-admins"]})
    assert claims["cognito:groups"] == "[auditors currency-admins]"
    event = behind_authorizer("POST", "/currencies", admin_token, claims, euro())
    assert gateway_handler(event, CONTEXT)["statusCode"] == 201


def test_gateway_mode_decides_from_the_claims_not_the_header(
    gateway_handler: Handler, admin_token: str, reader_token: str
) -> None:
    event = behind_authorizer(
        "POST", "/currencies", admin_token, claims_as_delivered(reader_token), euro()
    )
    result = gateway_handler(event, CONTEXT)
    assert result["statusCode"] == 403
    assert 'error="insufficient_scope"' in result["headers"]["www-authenticate"]


def test_gateway_mode_lets_a_reader_read(
    gateway_handler: Handler, reader_token: str, store: CurrencyStore
) -> None:
    store.create(euro(), "tester")
    event = behind_authorizer(
        "GET", "/currencies/EUR", reader_token, claims_as_delivered(reader_token)
    )
    assert gateway_handler(event, CONTEXT)["statusCode"] == 200


def test_gateway_mode_takes_service_scopes_from_the_space_separated_claim(
    gateway_handler: Handler, cognito: local.LocalCognito
) -> None:
    token = local.mint_service_token(cognito, ["currencies/read", "currencies/write"])
    claims = claims_as_delivered(token)
    assert claims["scope"] == "currencies/read currencies/write"
    result = gateway_handler(
        behind_authorizer("POST", "/currencies", token, claims, euro()), CONTEXT
    )
    assert result["statusCode"] == 201
    assert body_of(result)["createdBy"] == cognito.service_client_id


def test_gateway_mode_without_authorizer_claims_is_401(
    gateway_handler: Handler, admin_token: str
) -> None:
    result = gateway_handler(behind_authorizer("GET", "/currencies", admin_token, None), CONTEXT)
    assert result["statusCode"] == 401
    assert result["headers"]["content-type"] == "application/problem+json"
    assert result["headers"]["www-authenticate"] == (
        'Bearer realm="currency-api", error="invalid_token"'
    )


def test_gateway_mode_without_authorization_header_is_401(
    gateway_handler: Handler, admin_token: str
) -> None:
    event = http_api_v2("GET", "/currencies", claims=claims_as_delivered(admin_token))
    result = gateway_handler(event, CONTEXT)
    assert result["statusCode"] == 401
    assert result["headers"]["www-authenticate"] == 'Bearer realm="currency-api"'


def test_gateway_mode_refuses_claims_of_a_foreign_client_id(
    gateway_handler: Handler, admin_token: str
) -> None:
    claims = claims_as_delivered(admin_token, client_id="someone-elses-client")
    result = gateway_handler(behind_authorizer("GET", "/currencies", admin_token, claims), CONTEXT)
    assert result["statusCode"] == 401


def test_gateway_mode_refuses_id_token_claims(
    gateway_handler: Handler,
    cognito_client: CognitoIdentityProviderClient,
    cognito: local.LocalCognito,
) -> None:
    signed_in = cognito_client.initiate_auth(
        ClientId=cognito.public_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": cognito.admin_username, "PASSWORD": cognito.password},
    )["AuthenticationResult"]
    id_token = signed_in["IdToken"]
    claims = claims_as_delivered(id_token)
    assert claims["token_use"] == "id"
    result = gateway_handler(behind_authorizer("GET", "/currencies", id_token, claims), CONTEXT)
    assert result["statusCode"] == 401


def test_gateway_mode_refuses_claims_from_another_issuer(
    gateway_handler: Handler, admin_token: str
) -> None:
    claims = claims_as_delivered(
        admin_token, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"
    )
    result = gateway_handler(behind_authorizer("GET", "/currencies", admin_token, claims), CONTEXT)
    assert result["statusCode"] == 401


def test_gateway_mode_refuses_claims_without_a_subject(
    gateway_handler: Handler, admin_token: str
) -> None:
    claims = {k: v for k, v in claims_as_delivered(admin_token).items() if k != "sub"}
    result = gateway_handler(behind_authorizer("GET", "/currencies", admin_token, claims), CONTEXT)
    assert result["statusCode"] == 401
