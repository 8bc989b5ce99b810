"""A DynamoDB outage is a 503 problem with Retry-After, never a 500."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from starlette.testclient import TestClient

from currency_api.app import create_app
from currency_api.settings import Settings
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.ports import free_port


@pytest.fixture
def down_client(settings: Settings) -> TestClient:
    """The app with a DynamoDB endpoint where nothing listens (a real connection refusal)."""
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=1),
    )
    return TestClient(create_app(settings, store=CurrencyStore(client, settings.table_name)))


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/currencies", {}),
        ("GET", "/currencies/EUR", {}),
        ("POST", "/currencies", {"json": euro()}),
        ("PUT", "/currencies/EUR", {"json": euro()}),
        ("DELETE", "/currencies/EUR", {}),
    ],
)
def test_dynamodb_down_gives_503_problem_with_retry_after(
    down_client: TestClient,
    admin: dict[str, str],
    method: str,
    path: str,
    kwargs: dict[str, object],
) -> None:
    response = down_client.request(method, path, headers=admin, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert "127.0.0.1" not in response.text


def test_health_answers_while_dynamodb_is_down(down_client: TestClient) -> None:
    assert down_client.get("/health").status_code == 200
