"""Typed, frozen settings: the only code that reads os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class SettingsError(ValueError):
    """A required setting is missing or malformed; the message names the variable."""


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required but not set")
    return value


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"environment variable {name} must be true or false, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be an integer") from None
    if not low <= value <= high:
        raise SettingsError(f"environment variable {name} must be between {low} and {high}")
    return value


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")) or any(c in raw for c in " ?#"):
        raise SettingsError(f"environment variable {name} must be an http(s) URL, not {raw!r}")
    return raw.rstrip("/")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service is configured with.

    Built by :meth:`from_env` in production; tests build it directly.
    """

    table_name: str
    region: str
    cognito_user_pool_id: str
    cognito_app_client_ids: tuple[str, ...]
    cognito_issuer: str
    cognito_jwks_url: str
    admin_group: str = "currency-admins"
    #: Trust the claims that API Gateway's JWT authorizer put in the Lambda event instead of
    #: verifying the token again. Only honoured on Lambda (see lambda_function.py).
    trust_gateway_claims: bool = False
    #: Key that makes pagination cursors tamper-evident (HMAC-SHA256).
    cursor_secret: str = field(default="", repr=False)
    cors_allow_origins: tuple[str, ...] = ()
    #: Largest request body accepted, in bytes; larger bodies get 413.
    max_body_bytes: int = 16_384
    #: Seconds a client should wait after a 503 (the Retry-After header).
    retry_after_seconds: int = 1
    #: Seconds between two JWKS refetches triggered by an unknown key id.
    jwks_refetch_interval_seconds: int = 300
    #: Validate responses against the spec (tests and local runs; off on Lambda by default).
    validate_responses: bool = False
    log_level: str = "INFO"
    #: The URL callers reach this server at, named in the served spec's ``servers`` (see
    #: currency_api/served_spec.py); None: derived per request where the platform tells it.
    public_url: str | None = None
    #: Write one CloudWatch EMF record per request to stdout (currency_api.metrics).
    metrics: bool = False
    #: The CloudWatch namespace of those records.
    metrics_namespace: str = "CurrencyApi"
    #: Swagger UI keeps a pasted token in the browser's localStorage across reloads. Local
    #: runs only (local.settings_for): never from the environment, so never on Lambda or
    #: `serve --aws`, where a token left in a shared browser is a credential left behind.
    swagger_persist_authorization: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from the environment.

        Required: ``TABLE_NAME``, ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``),
        ``COGNITO_USER_POOL_ID``, ``COGNITO_APP_CLIENT_IDS`` (comma-separated).
        Optional: ``COGNITO_ISSUER`` (default
        ``https://cognito-idp.{region}.amazonaws.com/{pool_id}``, per the Cognito docs on
        verifying JWTs), ``COGNITO_JWKS_URL`` (default ``{issuer}/.well-known/jwks.json``),
        ``ADMIN_GROUP``, ``TRUST_API_GATEWAY_CLAIMS``, ``CURSOR_SECRET``,
        ``CORS_ALLOW_ORIGINS``, ``MAX_BODY_BYTES``, ``VALIDATE_RESPONSES``, ``LOG_LEVEL``,
        ``PUBLIC_URL`` (an absolute http(s) URL),
        ``METRICS`` (``emf`` or ``off``; default ``emf`` on AWS Lambda, where
        ``AWS_LAMBDA_FUNCTION_NAME`` is set, else ``off``), ``METRICS_NAMESPACE``.

        Raises:
            SettingsError: a required variable is missing or a value is malformed; the
                message names the variable.
        """
        env = os.environ if env is None else env
        table_name = _required(env, "TABLE_NAME")
        region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
        if not region:
            raise SettingsError("environment variable AWS_REGION is required but not set")
        pool_id = _required(env, "COGNITO_USER_POOL_ID")
        client_ids = _csv(_required(env, "COGNITO_APP_CLIENT_IDS"))
        if not client_ids:
            raise SettingsError("environment variable COGNITO_APP_CLIENT_IDS names no client")
        issuer = env.get("COGNITO_ISSUER", "").strip() or (
            f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        )
        jwks_url = env.get("COGNITO_JWKS_URL", "").strip() or f"{issuer}/.well-known/jwks.json"
        return cls(
            table_name=table_name,
            region=region,
            cognito_user_pool_id=pool_id,
            cognito_app_client_ids=client_ids,
            cognito_issuer=issuer.rstrip("/"),
            cognito_jwks_url=jwks_url,
            admin_group=env.get("ADMIN_GROUP", "").strip() or "currency-admins",
            trust_gateway_claims=_flag(env, "TRUST_API_GATEWAY_CLAIMS", False),
            cursor_secret=env.get("CURSOR_SECRET", ""),
            cors_allow_origins=_csv(env.get("CORS_ALLOW_ORIGINS", "")),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 16_384, 1_024, 1_048_576),
            validate_responses=_flag(env, "VALIDATE_RESPONSES", False),
            log_level=env.get("LOG_LEVEL", "").strip().upper() or "INFO",
            public_url=_url(env, "PUBLIC_URL"),
            metrics=metrics_enabled(env),
            metrics_namespace=env.get("METRICS_NAMESPACE", "").strip() or "CurrencyApi",
        )


def metrics_enabled(env: Mapping[str, str]) -> bool:
    """Whether ``METRICS`` turns the EMF records on: ``emf`` (or ``on``) yes, ``off`` no; unset:
    yes on AWS Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set), no elsewhere.

    Raises:
        SettingsError: any other value.
    """
    raw = env.get("METRICS", "").strip().lower()
    if not raw:
        return bool(env.get("AWS_LAMBDA_FUNCTION_NAME", "").strip())
    if raw in {"emf", "on"}:
        return True
    if raw == "off":
        return False
    raise SettingsError(f"environment variable METRICS must be emf or off, not {raw!r}")
