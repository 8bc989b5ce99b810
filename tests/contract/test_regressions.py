"""Failures Schemathesis found, kept as plain tests with the input it found.

Each test names the check that failed and the request it sent; the fix is described where it lives.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import euro


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        # Found by allow_header_conformance (ST205): `Allow: HEAD, GET` missing DELETE, PATCH, PUT.
        ("OPTIONS", "/currencies/EUR", "GET, HEAD, PUT, PATCH, DELETE"),
        ("POST", "/currencies/EUR", "GET, HEAD, PUT, PATCH, DELETE"),
        ("DELETE", "/currencies", "GET, HEAD, POST"),
        ("PUT", "/health", "GET, HEAD"),
    ],
)
def test_405_allow_header_lists_every_method_of_the_resource(
    client: TestClient, admin: dict[str, str], method: str, path: str, allowed: str
) -> None:
    """RFC 9110 section 15.5.6; fixed by currency_api.middleware.AllowFromSpec."""
    client.post("/currencies", json=euro(), headers=admin)

    response = client.request(method, path, headers={**admin, "If-None-Match": '"1700000000000.1"'})

    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405
