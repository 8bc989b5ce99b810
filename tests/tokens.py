"""Cognito-shaped JWTs for tests, signed with real keys (moto's own or freshly generated RSA).

Claim names and shapes follow the Cognito developer guide ("Understanding the access token"):
``sub``, ``client_id``, ``token_use``, ``scope`` (space-separated), ``cognito:groups`` (a list),
``username`` (users only), ``iss``, ``iat``, ``exp``, ``jti``; no ``aud`` on access tokens.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key (Cognito signs with RS256 on 2048-bit keys)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def other_rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A named RSA key, generated once per test session (key generation is not free)."""
    return new_rsa_key()


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    """The public half as a JWK (RFC 7517), shaped like an entry of Cognito's JWKS."""
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def sign(
    claims: Mapping[str, Any],
    key: rsa.RSAPrivateKey,
    kid: str,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """An RS256 JWS over ``claims`` with ``kid`` in the header."""
    return jwt.encode(dict(claims), key, algorithm="RS256", headers={"kid": kid, **(headers or {})})


def access_claims(
    issuer: str,
    client_id: str,
    *,
    username: str | None = None,
    groups: tuple[str, ...] = (),
    scope: str = "",
    now: int | None = None,
    lifetime: int = 3600,
    **extra: Any,
) -> dict[str, Any]:
    """Claims of a Cognito access token: a user's if ``username`` is given, else a client's."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid4()) if username else client_id,
        "client_id": client_id,
        "token_use": "access",
        "scope": scope or ("aws.cognito.signin.user.admin" if username else ""),
        "auth_time": issued,
        "iss": issuer,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
        "version": 2,
    }
    if username:
        claims["username"] = username
    if groups:
        claims["cognito:groups"] = list(groups)
    claims.update(extra)
    return claims


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWS, not verified (to copy a real token's shape)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Mapping[str, Any]) -> str:
    """One base64url JSON segment of a compact JWS."""
    return b64url(json.dumps(dict(value), separators=(",", ":")).encode())


def unsecured(claims: Mapping[str, Any]) -> str:
    """An unsecured JWT (RFC 7519 section 6: ``alg`` = ``none``, empty signature)."""
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}."


def hs256(claims: Mapping[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 JWS keyed with ``secret``, built by hand: PyJWT refuses to HMAC with a PEM key,
    which is exactly the key confusion attack (RFC 8725 section 2.1) this token carries."""
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def with_payload(token: str, claims: Mapping[str, Any]) -> str:
    """The token with its payload replaced and the original header and signature kept."""
    header, _payload, signature = token.split(".")
    return f"{header}.{segment(claims)}.{signature}"


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer puts them in ``requestContext.authorizer.jwt``:
    every value a string, numbers in decimal, arrays flattened to ``"[a b]"``."""
    flattened: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list):
            flattened[name] = "[" + " ".join(str(v) for v in value) + "]"
        else:
            flattened[name] = str(value)
    return flattened
