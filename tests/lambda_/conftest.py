"""The Lambda handler, imported fresh with settings from the environment as on AWS."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from currency_api import local
from currency_api.store import CurrencyStore

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _import_lambda_function() -> ModuleType:
    sys.modules.pop("currency_api.lambda_function", None)
    return importlib.import_module("currency_api.lambda_function")


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch, cognito: local.LocalCognito, store: CurrencyStore
) -> dict[str, str]:
    env = {
        "TABLE_NAME": store.table_name,
        "COGNITO_USER_POOL_ID": cognito.user_pool_id,
        "COGNITO_APP_CLIENT_IDS": f"{cognito.public_client_id},{cognito.service_client_id}",
        "COGNITO_JWKS_URL": cognito.jwks_url,
        "CURSOR_SECRET": "test-secret",
        "AWS_LAMBDA_FUNCTION_NAME": "currency-api",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def lambda_module(lambda_env: dict[str, str]) -> Iterator[ModuleType]:
    yield _import_lambda_function()
    sys.modules.pop("currency_api.lambda_function", None)


@pytest.fixture
def handler(lambda_module: ModuleType) -> Handler:
    fn: Handler = lambda_module.lambda_handler
    return fn


@pytest.fixture
def import_lambda_function() -> Callable[[], ModuleType]:
    return _import_lambda_function
