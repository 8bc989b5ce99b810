"""Settings.from_env: required variables fail fast by name; defaults follow Cognito's docs."""

from __future__ import annotations

import pytest

from currency_api.settings import Settings, SettingsError

BASE = {
    "TABLE_NAME": "currencies",
    "AWS_REGION": "eu-west-1",
    "COGNITO_USER_POOL_ID": "eu-west-1_abc",
    "COGNITO_APP_CLIENT_IDS": "one, two",
}


@pytest.mark.parametrize(
    "missing", ["TABLE_NAME", "AWS_REGION", "COGNITO_USER_POOL_ID", "COGNITO_APP_CLIENT_IDS"]
)
def test_from_env_names_the_missing_variable(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


def test_from_env_derives_issuer_and_jwks_url_from_pool_and_region() -> None:
    settings = Settings.from_env(BASE)
    assert settings.cognito_issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert settings.cognito_jwks_url == settings.cognito_issuer + "/.well-known/jwks.json"
    assert settings.cognito_app_client_ids == ("one", "two")
    assert settings.admin_group == "currency-admins"
    assert settings.trust_gateway_claims is False


def test_from_env_accepts_aws_default_region_and_explicit_urls() -> None:
    env = {k: v for k, v in BASE.items() if k != "AWS_REGION"}
    env |= {
        "AWS_DEFAULT_REGION": "us-east-2",
        "COGNITO_ISSUER": "https://issuer.example/pool/",
        "COGNITO_JWKS_URL": "http://127.0.0.1:5000/pool/.well-known/jwks.json",
        "ADMIN_GROUP": "ops",
        "CORS_ALLOW_ORIGINS": "https://a.example,https://b.example",
    }
    settings = Settings.from_env(env)
    assert settings.region == "us-east-2"
    assert settings.cognito_issuer == "https://issuer.example/pool"
    assert settings.cognito_jwks_url.startswith("http://127.0.0.1:5000/")
    assert settings.admin_group == "ops"
    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRUST_API_GATEWAY_CLAIMS", "maybe"),
        ("MAX_BODY_BYTES", "lots"),
        ("MAX_BODY_BYTES", "10"),
        ("PUBLIC_URL", "api.example.com"),
        ("PUBLIC_URL", "https://api.example.com/?x=1"),
        ("METRICS", "statsd"),
    ],
)
def test_from_env_rejects_malformed_values_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**BASE, name: value})


def test_public_url_is_optional_and_kept_without_a_trailing_slash() -> None:
    assert Settings.from_env(BASE).public_url is None
    url = Settings.from_env({**BASE, "PUBLIC_URL": "https://api.example.com/v1/"}).public_url
    assert url == "https://api.example.com/v1"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "currency-api"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "currency-api", "METRICS": "off"}, False),
        ({"METRICS": "emf"}, True),
    ],
)
def test_metrics_are_on_by_default_only_on_lambda(extra: dict[str, str], expected: bool) -> None:
    settings = Settings.from_env({**BASE, **extra})
    assert settings.metrics is expected
    assert settings.metrics_namespace == "CurrencyApi"
