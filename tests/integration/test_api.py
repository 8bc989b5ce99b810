"""The whole app in process against moto over HTTP: the CRUD contract of issue 2."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from currency_api.iso4217 import read_list_one
from currency_api.seed import seed
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.spec_operations import load_spec

PROBLEM = "application/problem+json"
MERGE_PATCH = "application/merge-patch+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert "Traceback" not in response.text
    return body


def create(client: TestClient, admin: dict[str, str], **changes: Any) -> Any:
    return client.post("/currencies", json=euro(**changes), headers=admin)


def test_health_is_public(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_spec_and_swagger_ui_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Currency API"
    ui = client.get("/ui/")
    assert ui.status_code == 200
    assert "swagger-ui" in ui.text


def test_create_currency_returns_201_with_location_and_etag(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = create(client, admin, symbol="€")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == "EUR"
    assert body["symbol"] == "€"
    assert body["version"] == 1
    assert body["createdAt"].endswith("Z")
    assert body["createdBy"] == body["updatedBy"]
    assert response.headers["location"] == "/currencies/EUR"
    assert response.headers["etag"].startswith('"')


def test_create_currency_returns_409_when_code_exists(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert create(client, admin).status_code == 201
    body = assert_problem(create(client, admin, name="Other"), 409)
    assert "EUR" in body["detail"]
    assert client.get("/currencies/EUR", headers=admin).json()["name"] == "Euro"


def test_create_currency_returns_409_naming_the_holder_of_a_taken_numeric_code(
    client: TestClient, admin: dict[str, str], store: CurrencyStore
) -> None:
    assert create(client, admin).status_code == 201
    body = assert_problem(
        create(client, admin, code="XEU", name="Not the euro", numericCode="978"), 409
    )
    assert body["detail"] == "The numeric code '978' belongs to the currency 'EUR' already."
    assert [c["code"] for c in store.list(10).items] == ["EUR"]


def test_replace_and_update_return_409_when_renumbering_to_a_taken_numeric_code(
    client: TestClient, admin: dict[str, str], store: CurrencyStore
) -> None:
    create(client, admin)
    create(client, admin, code="CHF", name="Swiss Franc", numericCode="756")
    body = euro(code="CHF", name="Franc", numericCode="978")
    replace = client.put("/currencies/CHF", json=body, headers=admin)
    assert "'EUR'" in assert_problem(replace, 409)["detail"]
    patch = client.patch(
        "/currencies/CHF",
        content=json.dumps({"numericCode": "978"}),
        headers={**admin, "Content-Type": MERGE_PATCH},
    )
    assert "'EUR'" in assert_problem(patch, 409)["detail"]
    assert store.get("CHF")["numericCode"] == "756"


def test_deleting_or_renumbering_a_currency_releases_its_numeric_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    create(client, admin)
    renumber = client.patch(
        "/currencies/EUR",
        content=json.dumps({"numericCode": "999"}),
        headers={**admin, "Content-Type": MERGE_PATCH},
    )
    assert renumber.status_code == 200, renumber.text
    assert create(client, admin, code="XEU", numericCode="978").status_code == 201  # free again
    assert client.delete("/currencies/EUR", headers=admin).status_code == 204
    assert create(client, admin, code="XXX", numericCode="999").status_code == 201


def test_listing_never_returns_the_numeric_code_reservations(
    client: TestClient, admin: dict[str, str]
) -> None:
    for code, numeric in (("AAA", "901"), ("BBB", "902"), ("CCC", "903")):
        assert create(client, admin, code=code, numericCode=numeric).status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/currencies", params=query, headers=admin).json()
        seen.extend(item["code"] for item in page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["AAA", "BBB", "CCC"]


def test_every_success_body_keeps_the_spec_member_order_in_utf8(
    client: TestClient, admin: dict[str, str]
) -> None:
    order = list(load_spec()["components"]["schemas"]["Currency"]["properties"])
    created = create(client, admin, symbol="€")
    etag = created.headers["etag"]
    read = client.get("/currencies/EUR", headers=admin)
    patched = client.patch(
        "/currencies/EUR",
        content=json.dumps({"name": "Euro ✓"}),
        headers={**admin, "Content-Type": MERGE_PATCH, "If-Match": read.headers["etag"]},
    )
    replaced = client.put("/currencies/EUR", json=euro(symbol="€"), headers=admin)
    listed = client.get("/currencies", headers=admin)
    assert etag
    for response in (created, read, patched, replaced):
        assert response.status_code in (200, 201), response.text
        assert list(response.json()) == [name for name in order if name in response.json()]
        assert "€".encode() in response.content or "✓".encode() in response.content
        assert b"\\u" not in response.content
    assert list(listed.json()) == ["items", "nextCursor"]
    (item,) = listed.json()["items"]
    assert list(item) == [name for name in order if name in item]
    assert "€".encode() in listed.content


def test_get_currency_returns_404_when_unknown(client: TestClient, admin: dict[str, str]) -> None:
    assert_problem(client.get("/currencies/XXX", headers=admin), 404)


@pytest.mark.parametrize("code", ["eur", "EURO", "E1R", "EU"])
def test_get_currency_returns_400_for_a_bad_code(
    client: TestClient, admin: dict[str, str], code: str
) -> None:
    assert_problem(client.get(f"/currencies/{code}", headers=admin), 400)


def test_get_currency_returns_304_for_a_matching_if_none_match(
    client: TestClient, admin: dict[str, str]
) -> None:
    etag = create(client, admin).headers["etag"]
    response = client.get("/currencies/EUR", headers={**admin, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["etag"] == etag
    assert response.content == b""
    assert "content-type" not in response.headers
    other = client.get("/currencies/EUR", headers={**admin, "If-None-Match": '"nope"'})
    assert other.status_code == 200


def test_create_currency_returns_415_for_the_wrong_content_type(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/currencies",
        content=json.dumps(euro()),
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert_problem(response, 415)


@pytest.mark.parametrize("body", [b"", b"{", b"[1, 2]", b"null", b'{"code": "EUR",}'])
def test_create_currency_returns_400_for_empty_or_malformed_json(
    client: TestClient, admin: dict[str, str], body: bytes
) -> None:
    response = client.post(
        "/currencies", content=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("minor_unit", [2.5, "2", True, 5, -1])
def test_create_currency_returns_400_for_a_bad_minor_unit(
    client: TestClient, admin: dict[str, str], minor_unit: Any
) -> None:
    assert_problem(create(client, admin, minorUnit=minor_unit), 400)


@pytest.mark.parametrize(
    "changes",
    [
        {"numericCode": 978},
        {"numericCode": "97"},
        {"name": ""},
        {"name": "x" * 101},
        {"symbol": "x" * 11},
        {"unknown": "field"},
        {"version": 7},
    ],
)
def test_create_currency_returns_400_for_a_body_off_the_schema(
    client: TestClient, admin: dict[str, str], changes: dict[str, Any]
) -> None:
    assert_problem(create(client, admin, **changes), 400)


def test_create_currency_returns_400_when_a_required_field_is_missing(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = euro()
    del body["minorUnit"]
    assert_problem(client.post("/currencies", json=body, headers=admin), 400)


def test_unicode_names_and_symbols_round_trip(client: TestClient, admin: dict[str, str]) -> None:
    # Characters outside the Basic Multilingual Plane (🪙) are refused: docs/hardening.md.
    body = euro(code="ZZZ", name="Złoty – ₿ ₹ 日本円 Ελληνικά", symbol="₿₹")
    assert client.post("/currencies", json=body, headers=admin).status_code == 201
    stored = client.get("/currencies/ZZZ", headers=admin).json()
    assert (stored["name"], stored["symbol"]) == (body["name"], body["symbol"])


def test_minor_unit_null_round_trips_as_null(client: TestClient, admin: dict[str, str]) -> None:
    assert create(client, admin, code="XAU", minorUnit=None).status_code == 201
    assert client.get("/currencies/XAU", headers=admin).json()["minorUnit"] is None


def test_replace_currency_replaces_every_field_and_bumps_version(
    client: TestClient, admin: dict[str, str]
) -> None:
    etag = create(client, admin, symbol="€").headers["etag"]
    response = client.put(
        "/currencies/EUR",
        json={"name": "Euro (new)", "numericCode": "978", "minorUnit": 3},
        headers={**admin, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["minorUnit"], body["version"]) == ("Euro (new)", 3, 2)
    assert "symbol" not in body
    assert response.headers["etag"] != etag


def test_replace_currency_accepts_what_get_returned_after_an_edit(
    client: TestClient, admin: dict[str, str]
) -> None:
    create(client, admin, symbol="€")
    read = client.get("/currencies/EUR", headers=admin)
    edited = {**read.json(), "name": "Euro (edited)", "version": 99, "createdBy": "mallory"}
    response = client.put(
        "/currencies/EUR", json=edited, headers={**admin, "If-Match": read.headers["etag"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # The read-only members sent back are ignored: the server's own values stand.
    assert (body["name"], body["version"]) == ("Euro (edited)", 2)
    assert body["createdBy"] == read.json()["createdBy"]
    assert body["createdAt"] == read.json()["createdAt"]


def test_replace_currency_returns_400_for_an_unknown_member(
    client: TestClient, admin: dict[str, str]
) -> None:
    create(client, admin)
    body = {**euro(), "colour": "blue"}
    assert_problem(client.put("/currencies/EUR", json=body, headers=admin), 400)


def test_replace_currency_returns_404_when_missing(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.put("/currencies/EUR", json=euro(), headers=admin)
    assert_problem(response, 404)


def test_replace_currency_returns_400_when_body_code_differs_from_path(
    client: TestClient, admin: dict[str, str]
) -> None:
    create(client, admin)
    assert_problem(client.put("/currencies/EUR", json=euro(code="USD"), headers=admin), 400)


def test_replace_currency_returns_412_for_a_stale_if_match(
    client: TestClient, admin: dict[str, str]
) -> None:
    stale = create(client, admin).headers["etag"]
    assert client.put("/currencies/EUR", json=euro(name="A"), headers=admin).status_code == 200
    response = client.put(
        "/currencies/EUR", json=euro(name="B"), headers={**admin, "If-Match": stale}
    )
    assert_problem(response, 412)
    assert client.get("/currencies/EUR", headers=admin).json()["name"] == "A"


def test_weak_etag_never_satisfies_if_match(client: TestClient, admin: dict[str, str]) -> None:
    etag = create(client, admin).headers["etag"]
    response = client.put(
        "/currencies/EUR", json=euro(name="A"), headers={**admin, "If-Match": f"W/{etag}"}
    )
    assert_problem(response, 412)


def test_if_match_star_and_lists_are_honoured(client: TestClient, admin: dict[str, str]) -> None:
    etag = create(client, admin).headers["etag"]
    star = client.put("/currencies/EUR", json=euro(name="A"), headers={**admin, "If-Match": "*"})
    assert star.status_code == 200
    listed = client.put(
        "/currencies/EUR",
        json=euro(name="B"),
        headers={**admin, "If-Match": f'"other", {star.headers["etag"]}'},
    )
    assert listed.status_code == 200, listed.text
    assert etag not in (star.headers["etag"], listed.headers["etag"])


def test_update_currency_merge_patch_removes_symbol_with_null(
    client: TestClient, admin: dict[str, str]
) -> None:
    etag = create(client, admin, symbol="€").headers["etag"]
    response = client.patch(
        "/currencies/EUR",
        content=json.dumps({"symbol": None}),
        headers={**admin, "Content-Type": MERGE_PATCH, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "symbol" not in body
    assert (body["name"], body["numericCode"], body["minorUnit"]) == ("Euro", "978", 2)


def test_update_currency_changes_only_the_given_fields(
    client: TestClient, admin: dict[str, str]
) -> None:
    create(client, admin, symbol="€")
    response = client.patch(
        "/currencies/EUR",
        content=json.dumps({"name": "Euro!", "minorUnit": None}),
        headers={**admin, "Content-Type": MERGE_PATCH},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["minorUnit"], body["symbol"], body["version"]) == (
        "Euro!",
        None,
        "€",
        2,
    )


@pytest.mark.parametrize(
    "patch", [{}, {"name": None}, {"code": "USD"}, {"numericCode": None}, {"minorUnit": 1.5}]
)
def test_update_currency_returns_400_for_a_bad_patch(
    client: TestClient, admin: dict[str, str], patch: dict[str, Any]
) -> None:
    create(client, admin)
    response = client.patch(
        "/currencies/EUR",
        content=json.dumps(patch),
        headers={**admin, "Content-Type": MERGE_PATCH},
    )
    assert_problem(response, 400)


def test_update_currency_requires_merge_patch_media_type(
    client: TestClient, admin: dict[str, str]
) -> None:
    create(client, admin)
    assert_problem(client.patch("/currencies/EUR", json={"name": "X"}, headers=admin), 415)


def test_update_currency_returns_412_for_a_stale_if_match(
    client: TestClient, admin: dict[str, str]
) -> None:
    stale = create(client, admin).headers["etag"]
    headers = {**admin, "Content-Type": MERGE_PATCH}
    assert client.patch("/currencies/EUR", content=b'{"name":"A"}', headers=headers).is_success
    response = client.patch(
        "/currencies/EUR", content=b'{"name":"B"}', headers={**headers, "If-Match": stale}
    )
    assert_problem(response, 412)


def test_delete_currency_returns_204_then_404(client: TestClient, admin: dict[str, str]) -> None:
    create(client, admin)
    response = client.delete("/currencies/EUR", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert_problem(client.get("/currencies/EUR", headers=admin), 404)
    assert_problem(client.delete("/currencies/EUR", headers=admin), 404)


def test_delete_currency_honours_if_match(client: TestClient, admin: dict[str, str]) -> None:
    etag = create(client, admin).headers["etag"]
    assert_problem(client.delete("/currencies/EUR", headers={**admin, "If-Match": '"x"'}), 412)
    assert client.delete("/currencies/EUR", headers={**admin, "If-Match": etag}).status_code == 204


def test_recreated_currency_does_not_reuse_an_old_etag(
    client: TestClient, admin: dict[str, str]
) -> None:
    old = create(client, admin).headers["etag"]
    client.delete("/currencies/EUR", headers=admin)
    new = create(client, admin).headers["etag"]
    assert new != old
    response = client.put("/currencies/EUR", json=euro(), headers={**admin, "If-Match": old})
    assert_problem(response, 412)


def test_walking_every_page_yields_each_iso_currency_exactly_once(
    client: TestClient, admin: dict[str, str], store: CurrencyStore
) -> None:
    iso = read_list_one()
    seed(store._client, store.table_name, iso)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/currencies", params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 7
        seen.extend(item["code"] for item in page["items"])
        cursor = page["nextCursor"]
        pages += 1
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 178
    assert set(seen) == {c.code for c in iso}
    assert pages == 26


def test_list_uses_default_limit_of_50(
    client: TestClient, admin: dict[str, str], store: CurrencyStore
) -> None:
    seed(store._client, store.table_name, read_list_one())
    page = client.get("/currencies", headers=admin).json()
    assert len(page["items"]) == 50
    assert page["nextCursor"]


@pytest.mark.parametrize("cursor", ["garbage", "eyJjIjoiRVVSIn0", "AAAA", "a" * 200])
def test_list_returns_400_for_a_cursor_outside_the_spec_pattern(
    client: TestClient, admin: dict[str, str], cursor: str
) -> None:
    assert_problem(client.get("/currencies", params={"cursor": cursor}, headers=admin), 400)


@pytest.mark.parametrize("cursor", ["A" * 36, "0" * 36])
def test_list_returns_404_for_a_well_formed_cursor_we_did_not_issue(
    client: TestClient, admin: dict[str, str], cursor: str
) -> None:
    assert_problem(client.get("/currencies", params={"cursor": cursor}, headers=admin), 404)


def test_list_returns_404_for_a_tampered_cursor(
    client: TestClient, admin: dict[str, str], store: CurrencyStore
) -> None:
    seed(store._client, store.table_name, read_list_one())
    cursor = client.get("/currencies?limit=3", headers=admin).json()["nextCursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_problem(client.get("/currencies", params={"cursor": tampered}, headers=admin), 404)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=-1", "limit=abc", "foo=bar"])
def test_list_returns_400_for_bad_query_parameters(
    client: TestClient, admin: dict[str, str], query: str
) -> None:
    assert_problem(client.get(f"/currencies?{query}", headers=admin), 400)


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404)


def test_unsupported_method_is_a_405_problem(client: TestClient, admin: dict[str, str]) -> None:
    assert_problem(client.post("/currencies/EUR", json=euro(), headers=admin), 405)


def test_every_response_carries_nosniff_and_authenticated_ones_no_store(
    client: TestClient, admin: dict[str, str]
) -> None:
    public = client.get("/health")
    assert public.headers["x-content-type-options"] == "nosniff"
    secured = client.get("/currencies", headers=admin)
    assert secured.headers["cache-control"] == "no-store"
    assert secured.headers["x-content-type-options"] == "nosniff"
