"""Regressions for what an adversarial review found: each test is one finding, fixed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from starlette.testclient import TestClient

from currency_api.problems import PreconditionFailed, WriteConflict
from currency_api.store import CurrencyStore, etag_of
from tests.conftest import euro

MERGE_PATCH = "application/merge-patch+json"


def _recreate(store: CurrencyStore, code: str) -> dict[str, Any]:
    """Another client deletes the currency and creates it again (a new incarnation)."""
    store.delete(code)
    return store.create(euro(code=code, name="New", numericCode="222"), "other-client")


def test_write_that_read_an_old_incarnation_is_refused_with_if_match(
    store: CurrencyStore,
) -> None:
    old = store.create(euro(), "tester")
    recreated: dict[str, Any] = {}

    def check(current: Mapping[str, Any]) -> None:
        if etag_of(current) != etag_of(old):
            raise PreconditionFailed("EUR")
        if not recreated:
            recreated.update(_recreate(store, "EUR"))

    with pytest.raises(PreconditionFailed):
        store.write("EUR", lambda c: {**c, "name": "Old write"}, "tester", check)
    assert store.get("EUR")["name"] == "New"
    assert store.get("EUR")["createdAt"] == recreated["createdAt"]


def test_unconditional_write_after_a_recreate_applies_to_the_new_currency(
    store: CurrencyStore,
) -> None:
    store.create(euro(symbol="€"), "tester")
    calls: list[str] = []

    def merge(current: Mapping[str, Any]) -> dict[str, Any]:
        if not calls:
            _recreate(store, "EUR")
        calls.append(current["name"])
        return {**current, "symbol": "E"}

    written = store.write("EUR", merge, "tester")
    assert calls == ["Euro", "New"]
    assert (written["name"], written["numericCode"], written["symbol"]) == ("New", "222", "E")
    assert written["createdBy"] == "other-client"


def test_delete_that_read_an_old_incarnation_leaves_the_new_currency(store: CurrencyStore) -> None:
    store.create(euro(), "tester")

    def accept_then_recreate(_current: Mapping[str, Any]) -> None:
        _recreate(store, "EUR")

    with pytest.raises(PreconditionFailed):
        store.delete("EUR", accept_then_recreate)
    assert store.get("EUR")["name"] == "New"


def test_unconditional_write_that_loses_every_race_is_a_409(store: CurrencyStore) -> None:
    store.create(euro(), "tester")

    def concurrent_writer(current: Mapping[str, Any]) -> dict[str, Any]:
        store._client.update_item(
            TableName=store.table_name,
            Key={"code": {"S": "EUR"}},
            UpdateExpression="SET #v = #v + :one",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return dict(current)

    with pytest.raises(WriteConflict):
        store.write("EUR", concurrent_writer, "tester")
    assert WriteConflict.status == 409


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8"])
def test_media_type_in_other_letter_case_is_validated_like_lower_case(
    client: TestClient, admin: dict[str, str], content_type: str
) -> None:
    headers = {**admin, "Content-Type": content_type}
    bad = client.post("/currencies", content=json.dumps(euro(minorUnit="2")), headers=headers)
    assert bad.status_code == 400, bad.text
    good = client.post("/currencies", content=json.dumps(euro()), headers=headers)
    assert good.status_code == 201, good.text


def test_merge_patch_media_type_in_upper_case_is_validated(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/currencies", json=euro(), headers=admin)
    headers = {**admin, "Content-Type": "APPLICATION/MERGE-PATCH+JSON"}
    bad = client.patch("/currencies/EUR", content=b'{"name": null}', headers=headers)
    assert bad.status_code == 400, bad.text
    good = client.patch("/currencies/EUR", content=b'{"symbol": "E"}', headers=headers)
    assert good.status_code == 200, good.text


@pytest.mark.parametrize("escaped", [r"\ud800", r"x\udfffy", r"\ud83d", r"\uDBFF", r"\uDc00"])
def test_lone_surrogate_escape_in_a_body_is_a_400(
    client: TestClient, admin: dict[str, str], escaped: str
) -> None:
    body = '{"code":"QUB","name":"NAME","numericCode":"123","minorUnit":2}'.replace("NAME", escaped)
    response = client.post(
        "/currencies", content=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_numeric_code_with_a_trailing_newline_is_a_400(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/currencies", json=euro(numericCode="123\n"), headers=admin)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("template", ["junk {etag}", "w/{etag}", '"abc {etag}', "{etag} junk"])
def test_if_match_that_is_not_a_list_of_entity_tags_is_a_400_naming_the_header(
    client: TestClient, admin: dict[str, str], template: str
) -> None:
    """The spec's EntityTagList pattern (RFC 9110 sections 8.8.3, 13.1.1) refuses it."""
    etag = client.post("/currencies", json=euro(), headers=admin).headers["etag"]
    response = client.put(
        "/currencies/EUR",
        json=euro(name="X"),
        headers={**admin, "If-Match": template.format(etag=etag)},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["parameter"] == "If-Match"
    assert client.get("/currencies/EUR", headers=admin).json()["name"] == "Euro"


def test_a_weak_if_match_is_well_formed_but_never_matches(
    client: TestClient, admin: dict[str, str]
) -> None:
    """RFC 9110 section 13.1.1: If-Match compares strongly, so a weak tag fails (412)."""
    etag = client.post("/currencies", json=euro(), headers=admin).headers["etag"]
    response = client.put(
        "/currencies/EUR", json=euro(name="X"), headers={**admin, "If-Match": f"W/{etag}"}
    )
    assert response.status_code == 412, response.text


def test_if_none_match_that_is_not_a_list_of_entity_tags_is_a_400(
    client: TestClient, admin: dict[str, str]
) -> None:
    etag = client.post("/currencies", json=euro(), headers=admin).headers["etag"]
    response = client.get("/currencies/EUR", headers={**admin, "If-None-Match": f"garbage{etag}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "If-None-Match"


def test_repeated_if_match_fields_are_one_list(client: TestClient, admin: dict[str, str]) -> None:
    etag = client.post("/currencies", json=euro(), headers=admin).headers["etag"]
    headers = [(k, v) for k, v in admin.items()] + [("If-Match", '"zz"'), ("If-Match", etag)]
    response = client.put("/currencies/EUR", json=euro(name="X"), headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "name"), [("PATCH", "If-Match"), ("GET", "If-None-Match")])
@pytest.mark.parametrize("lines", [['"x"', "junk junk"], ["junk junk", '"x"'], ["*", "junk"]])
def test_a_conditional_header_on_several_lines_is_validated_as_the_joined_line(
    client: TestClient, admin: dict[str, str], method: str, name: str, lines: list[str]
) -> None:
    """RFC 9110 section 5.3: the lines mean what one line joined with ", " means, whichever
    line is malformed (validation read only the first: a 412 or a 200 instead of a 400)."""
    assert client.post("/currencies", json=euro(), headers=admin).status_code == 201
    extra = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
    body = b'{"name": "Euro"}' if method == "PATCH" else None
    joined = client.request(
        method,
        "/currencies/EUR",
        content=body,
        headers=[*admin.items(), *extra.items(), (name, ", ".join(lines))],
    )
    several = client.request(
        method,
        "/currencies/EUR",
        content=body,
        headers=[*admin.items(), *extra.items(), *((name, line) for line in lines)],
    )
    assert joined.status_code == 400, joined.text
    assert several.status_code == 400, several.text
    assert several.json() == joined.json()
