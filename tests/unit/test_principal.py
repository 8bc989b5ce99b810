"""Authenticator.principal: who called and what they may do, from verified Cognito claims."""

from __future__ import annotations

import dataclasses

import pytest

from currency_api.auth import READ_SCOPE, WRITE_SCOPE, Authenticator, InvalidToken
from currency_api.settings import Settings

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
SETTINGS = Settings(
    table_name="currencies",
    region="eu-west-1",
    cognito_user_pool_id="eu-west-1_abc",
    cognito_app_client_ids=("public-client", "service-client"),
    cognito_issuer=ISSUER,
    cognito_jwks_url=f"{ISSUER}/.well-known/jwks.json",  # never fetched by principal()
)


def user_claims(**changes: object) -> dict[str, object]:
    return {
        "sub": "7a1e5c0e-5b0a-4d5e-9f55-3b3c2d1e0f00",
        "client_id": "public-client",
        "token_use": "access",
        "username": "ada",
        "scope": "aws.cognito.signin.user.admin",
        "iss": ISSUER,
        **changes,
    }


def test_principal_of_an_admin_user_carries_subject_client_groups_and_scopes() -> None:
    principal = Authenticator(SETTINGS).principal(
        user_claims(**{"cognito:groups": ["auditors", "currency-admins"]})
    )
    assert principal.subject == "7a1e5c0e-5b0a-4d5e-9f55-3b3c2d1e0f00"
    assert principal.client_id == "public-client"
    assert principal.username == "ada"
    assert principal.groups == ("auditors", "currency-admins")
    assert principal.scopes == ("aws.cognito.signin.user.admin",)
    assert principal.grants == (READ_SCOPE, WRITE_SCOPE)
    assert principal.is_user


def test_user_outside_the_admin_group_may_only_read() -> None:
    principal = Authenticator(SETTINGS).principal(user_claims())
    assert principal.groups == ()
    assert principal.grants == (READ_SCOPE,)


def test_admin_group_comes_from_the_setting() -> None:
    settings = dataclasses.replace(SETTINGS, admin_group="ops")
    claims = user_claims(**{"cognito:groups": ["currency-admins"]})
    assert Authenticator(settings).principal(claims).grants == (READ_SCOPE,)
    claims = user_claims(**{"cognito:groups": ["ops"]})
    assert Authenticator(settings).principal(claims).grants == (READ_SCOPE, WRITE_SCOPE)


@pytest.mark.parametrize(
    ("scope", "grants"),
    [
        ("currencies/read", (READ_SCOPE,)),
        ("currencies/write", (READ_SCOPE, WRITE_SCOPE)),
        ("currencies/read currencies/write", (READ_SCOPE, WRITE_SCOPE)),
        ("", ()),
        ("currencies/admin other/write", ()),
    ],
)
def test_service_grants_come_from_its_scopes_write_implying_read(
    scope: str, grants: tuple[str, ...]
) -> None:
    claims = {
        "sub": "service-client",
        "client_id": "service-client",
        "token_use": "access",
        "scope": scope,
        "iss": ISSUER,
    }
    principal = Authenticator(SETTINGS).principal(claims)
    assert principal.grants == grants
    assert not principal.is_user
    assert principal.scopes == tuple(scope.split())


@pytest.mark.parametrize(
    "changes",
    [
        {"token_use": "id"},
        {"client_id": "someone-else"},
        {"client_id": ["public-client"]},
        {"sub": ""},
        {"sub": None},
    ],
    ids=["id-token", "foreign-client", "client-id-list", "empty-sub", "no-sub"],
)
def test_principal_refuses_claims_that_are_not_our_access_tokens(
    changes: dict[str, object],
) -> None:
    with pytest.raises(InvalidToken):
        Authenticator(SETTINGS).principal(user_claims(**changes))


def test_user_token_with_the_write_scope_but_outside_the_admin_group_may_only_read() -> None:
    # Writes by people are decided by the admin group alone (issue 3), not by the scopes the
    # user's app client was allowed to request in the authorization code flow.
    principal = Authenticator(SETTINGS).principal(
        user_claims(scope=f"openid {READ_SCOPE} {WRITE_SCOPE}")
    )
    assert principal.grants == (READ_SCOPE,)


def test_gateway_flattened_group_with_a_comma_is_one_group_not_the_admin_group() -> None:
    # Cognito group names may hold commas but no white space; API Gateway flattens the
    # array claim to "[a b]".
    principal = Authenticator(SETTINGS).principal(
        user_claims(**{"cognito:groups": "[ops,currency-admins]"})
    )
    assert principal.groups == ("ops,currency-admins",)
    assert principal.grants == (READ_SCOPE,)
    two = Authenticator(SETTINGS).principal(
        user_claims(**{"cognito:groups": "[ops currency-admins]"})
    )
    assert two.grants == (READ_SCOPE, WRITE_SCOPE)
