"""Embedded emulators for local runs and tests: moto's DynamoDB and Cognito over real HTTP.

Imports moto lazily; never deployed. Nothing here can reach a real AWS account: the
emulator endpoints are set for boto3 and the credentials are dummies.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from currency_api.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.client import CognitoIdentityProviderClient

REGION: Final = "us-east-1"
TABLE_NAME: Final = "currencies"
RESOURCE_SERVER: Final = "currencies"
ADMIN_GROUP: Final = "currency-admins"
DEMO_ADMIN: Final = "admin"
DEMO_READER: Final = "reader"
#: Where `serve` leaves what `token` needs (endpoint, pool, clients); never committed.
STATE_FILE: Final = Path(".currency-api") / "local.json"
#: Host names of the loopback interface: the only place the embedded emulator listens.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
#: The key id moto puts in every token it signs and in every pool's JWKS.
MOTO_KID: Final = "dummy"

_DUMMY_ENV: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # dummy: moto accepts anything
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True, slots=True)
class LocalCognito:
    """What the embedded Cognito was provisioned with."""

    endpoint: str
    region: str
    user_pool_id: str
    public_client_id: str
    service_client_id: str
    service_client_secret: str
    admin_username: str
    reader_username: str
    password: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        # moto serves the JWKS under its own endpoint, not under the issuer.
        return f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"

    def save(self, path: Path = STATE_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))
        path.chmod(0o600)

    @classmethod
    def load(cls, path: Path = STATE_FILE) -> LocalCognito:
        return cls(**json.loads(path.read_text()))


class NotTheEmulator(ValueError):
    """The local state does not point at a running embedded emulator holding the pool."""


def is_loopback(url: str | None) -> bool:
    """True for an ``http://`` URL on the loopback interface (where the emulator listens)."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def emulator_client(cognito: LocalCognito) -> CognitoIdentityProviderClient:
    """A Cognito client bound to the state's emulator endpoint with dummy credentials.

    The endpoint is passed explicitly, so neither ``AWS_ENDPOINT_URL_*`` nor any real
    credentials in the environment can redirect it to AWS.

    Raises:
        NotTheEmulator: the endpoint is not an ``http://`` loopback URL.
    """
    import boto3
    from botocore.config import Config

    if not is_loopback(cognito.endpoint):
        raise NotTheEmulator(f"{cognito.endpoint!r} is not the embedded emulator on loopback")
    client: CognitoIdentityProviderClient = boto3.client(
        "cognito-idp",
        region_name=cognito.region,
        endpoint_url=cognito.endpoint,
        aws_access_key_id=_DUMMY_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=_DUMMY_ENV["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=_DUMMY_ENV["AWS_SESSION_TOKEN"],
        config=Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1}),
    )
    return client


def ensure_emulator(cognito: LocalCognito, client: CognitoIdentityProviderClient) -> None:
    """Refuse anything but the embedded emulator that holds this pool.

    Checks: the state's endpoint and the client's actual endpoint are loopback; the pool
    exists there; and the pool's JWKS there holds moto's built-in key (so a token minted with
    that key is accepted by this emulator and by nothing else).

    Raises:
        NotTheEmulator: any check failed; the message says which, for the local user.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    for url in (cognito.endpoint, client.meta.endpoint_url):
        if not is_loopback(url):
            raise NotTheEmulator(f"{url!r} is not the embedded emulator on loopback")
    try:
        client.describe_user_pool(UserPoolId=cognito.user_pool_id)
    except ClientError:
        raise NotTheEmulator(
            f"the user pool {cognito.user_pool_id} does not exist in the emulator at "
            f"{cognito.endpoint} (is this state from an earlier run?)"
        ) from None
    except BotoCoreError:
        raise NotTheEmulator(f"no emulator answers at {cognito.endpoint}") from None
    if not serves_emulator_key(cognito.jwks_url):
        raise NotTheEmulator(f"{cognito.jwks_url} does not serve the emulator's signing key")


def serves_emulator_key(jwks_url: str) -> bool:
    """True if the loopback JWKS at ``jwks_url`` holds moto's built-in signing key."""
    import urllib.request

    import jwt
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    if not is_loopback(jwks_url):
        return False
    try:
        # A loopback http:// URL, checked above.
        with urllib.request.urlopen(jwks_url, timeout=3) as response:  # noqa: S310
            keys = jwt.PyJWKSet.from_dict(json.loads(response.read())).keys
    except Exception:  # anything unexpected means: not the emulator we started
        return False
    ours = moto_private_key().public_key().public_numbers()
    return any(
        key.key_id == MOTO_KID
        and isinstance(key.key, RSAPublicKey)
        and key.key.public_numbers() == ours
        for key in keys
    )


def point_boto3_at(endpoint: str, dynamodb_endpoint: str | None = None) -> None:
    """Send boto3's Cognito (and DynamoDB) calls to the emulator, with dummy credentials.

    ``dynamodb_endpoint`` sends DynamoDB elsewhere (another local emulator, say).
    """
    os.environ.update(_DUMMY_ENV)
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint or endpoint
    os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] = endpoint


class Emulator:
    """moto's server in this process on a free loopback port, serving DynamoDB and Cognito."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        import logging

        # moto's werkzeug logs every emulated call; keep the console for the API's own logs.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Wipe every emulated resource (``POST /moto-api/reset``)."""
        import urllib.request

        # The endpoint is the emulator's own http://127.0.0.1 address.
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()


def provision_cognito(
    client: CognitoIdentityProviderClient, endpoint: str, region: str = REGION
) -> LocalCognito:
    """A user pool shaped like the deployed one: resource server with both scopes, a public
    client (password sign-in for local use; authorization code flow declared), a confidential
    service client (client credentials), the admin group, a demo admin and a demo reader."""
    pool_id = client.create_user_pool(
        PoolName="currency-api-local",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    client.create_resource_server(
        UserPoolId=pool_id,
        Identifier=RESOURCE_SERVER,
        Name="Currency API",
        Scopes=[
            {"ScopeName": "read", "ScopeDescription": "Read currencies"},
            {"ScopeName": "write", "ScopeDescription": "Change currencies"},
        ],
    )
    scopes = [f"{RESOURCE_SERVER}/read", f"{RESOURCE_SERVER}/write"]
    public = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="currency-api-public",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", *scopes],
        CallbackURLs=["http://localhost:8000/ui/oauth2-redirect.html"],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    service = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="currency-api-service",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=scopes,
    )["UserPoolClient"]
    client.create_group(GroupName=ADMIN_GROUP, UserPoolId=pool_id)
    password = "Local-" + secrets.token_urlsafe(12) + "1a!"
    for username in (DEMO_ADMIN, DEMO_READER):
        client.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
        client.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )
    client.admin_add_user_to_group(UserPoolId=pool_id, Username=DEMO_ADMIN, GroupName=ADMIN_GROUP)
    return LocalCognito(
        endpoint=endpoint,
        region=region,
        user_pool_id=pool_id,
        public_client_id=public["ClientId"],
        service_client_id=service["ClientId"],
        service_client_secret=service["ClientSecret"],
        admin_username=DEMO_ADMIN,
        reader_username=DEMO_READER,
        password=password,
    )


def settings_for(cognito: LocalCognito, table_name: str = TABLE_NAME, **overrides: Any) -> Settings:
    """Settings for the app against the embedded emulators."""
    values: dict[str, Any] = {
        "table_name": table_name,
        "region": cognito.region,
        "cognito_user_pool_id": cognito.user_pool_id,
        "cognito_app_client_ids": (cognito.public_client_id, cognito.service_client_id),
        "cognito_issuer": cognito.issuer,
        "cognito_jwks_url": cognito.jwks_url,
        "admin_group": ADMIN_GROUP,
        "cursor_secret": "local-only",
        "validate_responses": True,
        "swagger_persist_authorization": True,
    }
    values.update(overrides)
    return Settings(**values)


def password_token(
    client: CognitoIdentityProviderClient, cognito: LocalCognito, username: str
) -> str:
    """A real access token from the emulator's USER_PASSWORD_AUTH sign-in."""
    result = client.initiate_auth(
        ClientId=cognito.public_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": cognito.password},
    )
    return result["AuthenticationResult"]["AccessToken"]


def mint_service_token(
    cognito: LocalCognito, scopes: list[str], lifetime_seconds: int = 3600
) -> str:
    """A client-credentials access token for LOCAL USE ONLY, signed with moto's built-in key.

    The emulator has no ``/oauth2/token`` endpoint, so this mints what Cognito's client
    credentials flow would return (claims per the Cognito developer guide: ``sub`` and
    ``client_id`` are the client, ``token_use`` is ``access``, ``scope`` space-separated).
    Only the emulator's JWKS holds this key; no real user pool will ever accept the token.

    Callers outside tests check the emulator first (:func:`ensure_emulator`), as
    ``currency-api token`` does.

    Raises:
        NotTheEmulator: the state does not point at a loopback emulator endpoint.
    """
    import time
    import uuid

    import jwt

    if not is_loopback(cognito.endpoint):
        raise NotTheEmulator("service tokens are minted only for the embedded emulator on loopback")
    now = int(time.time())
    claims = {
        "sub": cognito.service_client_id,
        "client_id": cognito.service_client_id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "auth_time": now,
        "iss": cognito.issuer,
        "exp": now + lifetime_seconds,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "version": 2,
    }
    return jwt.encode(claims, moto_private_key(), algorithm="RS256", headers={"kid": MOTO_KID})


@functools.cache
def moto_private_key() -> Any:
    """The RSA private key moto signs every emulated pool's tokens with (ships in moto).

    Loaded once: building an RSA key from its numbers checks it, which takes a while.
    """
    import gzip
    from importlib import resources

    import jwt

    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    jwk = data["keys"][0] if "keys" in data else data
    return jwt.PyJWK.from_dict(jwk, algorithm="RS256").key
