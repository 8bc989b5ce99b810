"""Shared fixtures: moto's DynamoDB and Cognito over real HTTP, real tokens, a fresh table."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from starlette.testclient import TestClient

from currency_api import local
from currency_api.app import create_app
from currency_api.settings import Settings
from currency_api.store import CurrencyStore, create_client

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.client import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb.client import DynamoDBClient


@pytest.fixture(scope="session")
def emulator() -> Iterator[local.Emulator]:
    """moto's server on a loopback port; boto3 is pointed at it with dummy credentials."""
    server = local.Emulator()
    local.point_boto3_at(server.start())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cognito_client(emulator: local.Emulator) -> CognitoIdentityProviderClient:
    return boto3.client("cognito-idp", region_name=local.REGION)


@pytest.fixture(scope="session")
def cognito(
    emulator: local.Emulator, cognito_client: CognitoIdentityProviderClient
) -> local.LocalCognito:
    """A user pool provisioned as `currency-api serve` does (admin and reader users)."""
    return local.provision_cognito(cognito_client, emulator.endpoint)


@pytest.fixture(scope="session")
def dynamodb(emulator: local.Emulator) -> DynamoDBClient:
    return create_client(local.REGION)


@pytest.fixture
def table_name(dynamodb: DynamoDBClient) -> Iterator[str]:
    """A fresh table per test, defined by the store's own table_definition."""
    name = f"currencies-{uuid.uuid4().hex[:12]}"
    CurrencyStore(dynamodb, name).ensure_table()
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def store(dynamodb: DynamoDBClient, table_name: str) -> CurrencyStore:
    return CurrencyStore(dynamodb, table_name, "test-secret")


@pytest.fixture
def settings(cognito: local.LocalCognito, table_name: str) -> Settings:
    return local.settings_for(cognito, table_name=table_name, cursor_secret="test-secret")


@pytest.fixture
def client(settings: Settings, store: CurrencyStore) -> Iterator[TestClient]:
    """The whole app (response validation on) in process; it reaches moto over HTTP."""
    app = create_app(settings, store=store)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def admin_token(cognito_client: CognitoIdentityProviderClient, cognito: local.LocalCognito) -> str:
    """A real access token from password sign-in of a user in the admin group."""
    return local.password_token(cognito_client, cognito, cognito.admin_username)


@pytest.fixture(scope="session")
def reader_token(cognito_client: CognitoIdentityProviderClient, cognito: local.LocalCognito) -> str:
    """A real access token of a user outside the admin group."""
    return local.password_token(cognito_client, cognito, cognito.reader_username)


@pytest.fixture(scope="session")
def admin(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture(scope="session")
def reader(reader_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {reader_token}"}


EURO: dict[str, Any] = {"code": "EUR", "name": "Euro", "numericCode": "978", "minorUnit": 2}


def euro(**changes: Any) -> dict[str, Any]:
    """A valid CurrencyCreate body, with changes.

    ISO 4217 numeric codes are unique (a second currency with ``978`` is a 409), so a body for
    another ``code`` gets a numeric code of its own, which no ISO currency holds either, unless
    ``numericCode`` is among the changes.
    """
    body = {**EURO, **changes}
    if "numericCode" not in changes and body["code"] != EURO["code"]:
        body["numericCode"] = numeric_code_for(str(body["code"]))
    return body


@functools.cache
def _free_numeric_codes() -> tuple[str, ...]:
    from currency_api.iso4217 import read_list_one

    held = {currency.numeric_code for currency in read_list_one()}
    return tuple(code for code in (f"{n:03d}" for n in range(1000)) if code not in held)


def numeric_code_for(code: str) -> str:
    """A numeric code no ISO 4217 currency holds, fixed for each alphabetic ``code``."""
    free = _free_numeric_codes()
    index = int.from_bytes(hashlib.blake2s(code.encode(), digest_size=4).digest())
    return free[index % len(free)]
