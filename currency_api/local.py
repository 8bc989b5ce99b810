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
    #: Where `serve` ran DynamoDB (the same emulator unless AWS_ENDPOINT_URL_DYNAMODB said
    #: otherwise) and its table: `seed` finds them here. Optional in older state files.
    dynamodb_endpoint: str | None = None
    table_name: str = TABLE_NAME

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


class _TableCopiedOncePerTransaction:
    """Stands for the ``copy`` module inside ``moto.dynamodb.models`` (only there).

    moto 5.2's TransactWriteItems deep-copies the table once per action, all copies of the
    same state taken before any action runs, to roll back on failure: a 50-action transaction
    on a table of 356 items spent about 2 s copying, past botocore's read timeout. Inside a
    transaction the first copy of a table is reused; the result is the same state, so
    nothing moto does changes but the time. When the transaction only puts and deletes whole
    items (which replace or remove item objects, never change one in place), the copy shares
    the item objects and copies only the table's item maps. Everything else is the real
    ``copy.deepcopy``.
    """

    def __init__(self) -> None:
        import threading

        self._local = threading.local()

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        import copy

        from moto.dynamodb.models.table import Table

        cache: dict[int, tuple[Any, Any]] | None = getattr(self._local, "cache", None)
        if cache is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        entry = cache.get(id(value))
        if entry is None or entry[0] is not value:
            if getattr(self._local, "whole_items", False):
                snapshot = copy.copy(value)
                snapshot.items = copy.copy(value.items)
                for key, item in value.items.items():
                    if isinstance(item, dict):  # {range key: item} of a composite key
                        snapshot.items[key] = dict(item)
            else:
                snapshot = copy.deepcopy(value, memo)
            # The original is held with its copy, so its id is not reused meanwhile.
            entry = cache[id(value)] = (value, snapshot)
        return entry[1]

    def install(self) -> None:
        """Point moto's DynamoDB models at this object and wrap TransactWriteItems (once)."""
        from moto.dynamodb import models

        if isinstance(getattr(models, "copy", None), _TableCopiedOncePerTransaction):
            return
        original = models.DynamoDBBackend.transact_write_items
        local_state = self._local

        @functools.wraps(original)
        def transact_write_items(backend: Any, transact_items: Any) -> Any:
            local_state.cache = {}
            local_state.whole_items = all(
                set(action) <= {"Put", "Delete"} for action in transact_items
            )
            try:
                return original(backend, transact_items)
            finally:
                local_state.cache = None

        setattr(models, "copy", self)  # noqa: B010 (moto's module attribute, not exported)
        setattr(models.DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010


def _serialized_moto_server(port: int = 0) -> Any:
    """moto's ThreadedMotoServer handling one request at a time.

    moto's DynamoDB is not thread-safe: TransactWriteItems deep-copies the table for its
    rollback while other requests may change it (``RuntimeError: dictionary changed size during
    iteration``), and two transactions could interleave. DynamoDB applies each request
    atomically (transactions included), so one request at a time is the faithful emulation;
    callers still run concurrently, and races between their separate requests stay possible.
    """
    import threading

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    _TableCopiedOncePerTransaction().install()

    class SerializedMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            lock = threading.Lock()

            def serialized(environ: Any, start_response: Any) -> Any:
                with lock:
                    # The body is built inside the lock: moto answers with whole bodies.
                    return list(app(environ, start_response))

            self._server = make_server(
                self._ip_address, self._port, serialized, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)


class Emulator:
    """moto's server in this process on a free loopback port, serving DynamoDB and Cognito
    (one request at a time: see :func:`_serialized_moto_server`)."""

    def __init__(self, port: int = 0) -> None:
        self._server = _serialized_moto_server(port)
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


def main(argv: list[str] | None = None) -> int:
    """``python -m currency_api.local PORT``: the embedded emulator alone, in its own process,
    on 127.0.0.1:PORT until interrupted (bench/load.py runs moto apart from the server)."""
    import sys
    import time

    args = sys.argv[1:] if argv is None else argv
    emulator = Emulator(int(args[0]) if args else 0)
    print(emulator.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        emulator.stop()


if __name__ == "__main__":
    raise SystemExit(main())
