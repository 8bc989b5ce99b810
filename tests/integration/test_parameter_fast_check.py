"""Parameters keep their problem details once their schemas' fastjsonschema checks exist
(connexion_extensions.accepts_once_used: generated at a schema's 64th use)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from currency_api.connexion_extensions import FAST_CHECK_AFTER

CASES = [
    ("/currencies/eur", {}),
    ("/currencies/EURO", {}),
    ("/currencies?limit=0", {}),
    ("/currencies?limit=101", {}),
    ("/currencies?cursor=short", {}),
    ("/currencies/EUR", {"If-None-Match": "no-quotes"}),
]


@pytest.mark.parametrize(("path", "headers"), CASES)
def test_refusals_are_the_same_before_and_after_the_fast_check(
    client: TestClient, reader: dict[str, str], path: str, headers: dict[str, str]
) -> None:
    before = client.get(path, headers={**reader, **headers})
    assert before.status_code == 400, before.text
    for _ in range(FAST_CHECK_AFTER):
        # Valid values of the same parameters: each schema reaches its fast check.
        assert client.get(
            "/currencies/EUR", headers={**reader, "If-None-Match": '"x"'}
        ).status_code in (200, 304, 404)
        assert client.get("/currencies?limit=5", headers=reader).status_code == 200
        cursor = client.get("/currencies?cursor=" + "A" * 36, headers=reader)
        assert cursor.status_code < 500
    after = client.get(path, headers={**reader, **headers})
    assert after.status_code == 400
    assert after.json() == before.json()
    assert after.headers["content-type"] == "application/problem+json"
