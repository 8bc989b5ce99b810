"""Parameters keep their problem details once their schemas' fastjsonschema checks exist
(connexion_extensions.accepts_once_used: generated at a schema's 64th use)."""

from __future__ import annotations

from starlette.testclient import TestClient

from currency_api.connexion_extensions import FAST_CHECK_AFTER

REFUSED = [
    ("/currencies/eur", {}),
    ("/currencies/EURO", {}),
    ("/currencies/E%C3%9CR", {}),
    ("/currencies?limit=0", {}),
    ("/currencies?limit=101", {}),
    ("/currencies?cursor=short", {}),
    ("/currencies?cursor=" + "A" * 35 + "%0A", {}),
    ("/currencies/EUR", {"If-None-Match": "no-quotes"}),
    ("/currencies/EUR", {"If-None-Match": '"a"b"'}),
]


def test_refusals_are_the_same_before_and_after_the_fast_check(
    client: TestClient, reader: dict[str, str]
) -> None:
    before = []
    for path, headers in REFUSED:
        response = client.get(path, headers={**reader, **headers})
        assert response.status_code == 400, (path, response.text)
        before.append(response.json())
    for _ in range(FAST_CHECK_AFTER):
        # Valid values of the same parameters: each schema reaches its fast check.
        etag = client.get("/currencies/EUR", headers={**reader, "If-None-Match": '"x"'})
        assert etag.status_code in (200, 404)
        assert client.get("/currencies?limit=5", headers=reader).status_code == 200
        cursor = client.get("/currencies?cursor=" + "A" * 36, headers=reader)
        assert cursor.status_code < 500
    after = []
    for path, headers in REFUSED:
        response = client.get(path, headers={**reader, **headers})
        assert response.status_code == 400, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        after.append(response.json())
    assert after == before
