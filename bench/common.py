"""What every benchmark shares: a signing key, its JWKS on loopback, Cognito-shaped tokens,
the Lambda environment and the API Gateway events.

Tokens are shaped like Cognito access tokens (Cognito developer guide, "Understanding the
access token"); the JWKS (RFC 7517) is served over real HTTP on 127.0.0.1, so every app
fetches and verifies exactly as it would against a user pool.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bench.memory_store import EURO
from tests.lambda_.events import http_api_v2

REGION: Final = "us-east-1"
USER_POOL_ID: Final = "us-east-1_Bench0001"
APP_CLIENT_ID: Final = "benchappclient0000000000001"
ISSUER: Final = f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}"
ADMIN_GROUP: Final = "currency-admins"
TABLE_NAME: Final = "currencies-bench"
KEY_ID: Final = "bench-key-1"
#: Nothing listens here: if any app tried to reach DynamoDB, it would fail loudly.
UNREACHABLE_DYNAMODB: Final = "http://127.0.0.1:9"


class SigningKey:
    """An RSA-2048 key pair standing in for a user pool's signing key."""

    def __init__(self, kid: str = KEY_ID) -> None:
        self.kid = kid
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = RSAAlgorithm.to_jwk(self._private.public_key(), as_dict=True)
        self.jwks: dict[str, Any] = {"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]}

    def access_token(
        self,
        *,
        username: str = "bench-admin",
        groups: tuple[str, ...] = (ADMIN_GROUP,),
        lifetime_seconds: int = 6 * 3600,
    ) -> str:
        """A user's access token from password sign-in: no custom scopes, admin group."""
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, username)),
            "cognito:groups": list(groups),
            "iss": ISSUER,
            "client_id": APP_CLIENT_ID,
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now,
            "exp": now + lifetime_seconds,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "username": username,
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid})


class JwksServer:
    """Serves one JWKS document at ``/jwks.json`` on a free loopback port, in a thread."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        body = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/jwks.json"

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


#: The function name Lambda sets (AWS_LAMBDA_FUNCTION_NAME), as in :class:`LambdaContext`.
FUNCTION_NAME: Final = "currency-api-bench"
#: What Lambda itself sets, and only on Lambda: the servers' environment leaves these out.
LAMBDA_ONLY: Final = ("AWS_LAMBDA_FUNCTION_NAME",)


def lambda_env(jwks_url: str, dynamodb_endpoint: str = UNREACHABLE_DYNAMODB) -> dict[str, str]:
    """The environment a Lambda function of either app would get (dummy credentials).

    As deployed (infra/function.py): ``METRICS=emf``, so ours writes one CloudWatch EMF
    record per request to stdout (currency_api/metrics.py, Powertools); the peer and the
    floor write none, as FastAPI apps usually do not. ``AWS_LAMBDA_FUNCTION_NAME`` is set as
    Lambda sets it (botocore and Powertools read it).
    """
    return {
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "METRICS": "emf",
        "METRICS_NAMESPACE": "CurrencyApi/bench",
        "TABLE_NAME": TABLE_NAME,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",  # dummy: no AWS account is ever reached
        "AWS_SESSION_TOKEN": "bench",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "COGNITO_USER_POOL_ID": USER_POOL_ID,
        "COGNITO_APP_CLIENT_IDS": APP_CLIENT_ID,
        "COGNITO_ISSUER": ISSUER,
        "COGNITO_JWKS_URL": jwks_url,
        "ADMIN_GROUP": ADMIN_GROUP,
        "CURSOR_SECRET": "bench-secret",
    }


def get_event(token: str, code: str = "EUR") -> dict[str, Any]:
    """``GET /currencies/{code}`` as an HTTP API v2.0 event."""
    return http_api_v2("GET", f"/currencies/{code}", headers={"Authorization": f"Bearer {token}"})


def post_event(token: str, code: str) -> dict[str, Any]:
    """``POST /currencies`` creating ``code`` as an HTTP API v2.0 event."""
    body = {**EURO, "code": code, "name": f"Bench {code}"}
    return http_api_v2(
        "POST", "/currencies", headers={"Authorization": f"Bearer {token}"}, body=body
    )


def patch_event(token: str, code: str = "EUR") -> dict[str, Any]:
    """``PATCH /currencies/{code}`` (JSON Merge Patch) as an HTTP API v2.0 event."""
    return http_api_v2(
        "PATCH",
        f"/currencies/{code}",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/merge-patch+json",
        },
        body={"symbol": "€"},
    )


class LambdaContext:
    """The attributes of the Lambda context object that Mangum and loggers read."""

    function_name = "currency-api-bench"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:currency-api-bench"
    memory_limit_in_mb = 1024
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name = "/aws/lambda/currency-api-bench"
    log_stream_name = "2026/01/01/[1]bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def codes(count: int, skip: frozenset[str] = frozenset({"EUR"})) -> list[str]:
    """``count`` distinct three-letter codes (AAA, AAB, ...), never one in ``skip``."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    found: list[str] = []
    for a in letters:
        for b in letters:
            for c in letters:
                code = a + b + c
                if code not in skip:
                    found.append(code)
                    if len(found) == count:
                        return found
    raise ValueError(f"only {len(found)} codes exist")
