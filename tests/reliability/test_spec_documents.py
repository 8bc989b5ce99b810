"""/openapi.json and /openapi.yaml over real HTTP: built once, served with an ETag and
Cache-Control, 304 for If-None-Match (Lambda: tests/lambda_/test_event_bounds.py)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from unittest import mock

import pytest
import yaml

from currency_api import local
from currency_api.app import create_app
from currency_api.spec_cache import SpecDocumentCache
from currency_api.store import CurrencyStore
from tests.reliability.conftest import LiveServer, raw_request

PATHS = ["/openapi.json", "/openapi.yaml"]


@pytest.mark.parametrize("path", PATHS)
def test_the_document_carries_an_etag_and_cache_control(live: LiveServer, path: str) -> None:
    first = raw_request(live.port, "GET", path)
    second = raw_request(live.port, "GET", path)
    assert first.status == second.status == 200
    assert first.body == second.body
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert second.headers["etag"] == etag
    assert first.headers["cache-control"] == "public, max-age=300"
    assert int(first.headers["content-length"]) == len(first.body)
    document = json.loads(first.body) if path.endswith("json") else yaml.safe_load(first.body)
    assert document["info"]["title"] == "Currency API"


def test_json_and_yaml_have_their_own_etags(live: LiveServer) -> None:
    tags = {raw_request(live.port, "GET", path).headers["etag"] for path in PATHS}
    assert len(tags) == 2


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("form", ["exact", "weak", "in a list", "star"])
def test_if_none_match_with_the_etag_is_a_304_without_a_body(
    live: LiveServer, path: str, form: str
) -> None:
    etag = raw_request(live.port, "GET", path).headers["etag"]
    value = {"exact": etag, "weak": f"W/{etag}", "in a list": f'"other", {etag}', "star": "*"}
    response = raw_request(live.port, "GET", path, [("If-None-Match", value[form])])
    assert response.status == 304
    assert response.body == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "public, max-age=300"


@pytest.mark.parametrize("path", PATHS)
def test_if_none_match_with_another_etag_gets_the_document(live: LiveServer, path: str) -> None:
    response = raw_request(live.port, "GET", path, [("If-None-Match", '"stale"')])
    assert response.status == 200
    assert response.body


def test_each_document_is_rendered_once(cognito: local.LocalCognito, dynamodb: Any) -> None:
    # The layers that render a document (Connexion's, or whatever serves the spec inside the
    # cache) are asked once per document, however often it is fetched.
    store = CurrencyStore(dynamodb, f"currencies-{uuid.uuid4().hex[:12]}", "test-secret")
    settings = local.settings_for(cognito, table_name=store.table_name, cursor_secret="x")
    build = SpecDocumentCache._build
    with (
        mock.patch.object(SpecDocumentCache, "_build", autospec=True, side_effect=build) as asked,
        LiveServer(create_app(settings, store=store)) as server,
    ):
        for _ in range(5):
            for path in PATHS:
                assert raw_request(server.port, "GET", path).status == 200
    assert asked.call_count == 2
