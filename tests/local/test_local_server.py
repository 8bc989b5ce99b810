"""The local run as a newcomer does it: `currency-api serve`, then `currency-api token`.

One real server for the module (a subprocess on a free port with its own embedded moto),
tokens from the real `token` command run in the same folder, requests over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests import tokens
from tests.local_server import LocalServer, serving
from tests.spec_operations import secured_operations


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with serving(tmp_path_factory.mktemp("local-run")) as local_server:
        yield local_server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_serve_prints_its_urls_and_how_to_get_a_token(server: LocalServer) -> None:
    printed = "".join(server.output)
    assert server.api.startswith("http://127.0.0.1:")
    assert server.swagger_ui == f"{server.base}/ui/"
    assert server.spec == f"{server.base}/openapi.json"
    assert "currency-api token" in printed
    assert "--client service" in printed
    assert "Authorize" in printed


def test_local_server_refuses_anonymous_reads(server: LocalServer) -> None:
    response = httpx.get(f"{server.api}/EUR")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="currency-api"'


def test_reader_token_reads_a_seeded_currency_but_cannot_write(server: LocalServer) -> None:
    token = server.token("--user", "reader")
    assert tokens.claims_of(token)["username"] == "reader"
    read = httpx.get(f"{server.api}/EUR", headers=bearer(token))
    assert read.status_code == 200
    assert read.json()["numericCode"] == "978"
    write = httpx.patch(
        f"{server.api}/EUR",
        content=b'{"symbol": "E"}',
        headers={**bearer(token), "Content-Type": "application/merge-patch+json"},
    )
    assert write.status_code == 403
    assert 'error="insufficient_scope"' in write.headers["www-authenticate"]


def test_admin_token_creates_and_deletes_a_currency(server: LocalServer) -> None:
    token = server.token()  # the default: the demo admin
    body = {"code": "ZZA", "name": "Local test", "numericCode": "899", "minorUnit": 2}
    created = httpx.post(server.api, json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["createdBy"] == tokens.claims_of(token)["sub"]
    assert httpx.delete(f"{server.api}/ZZA", headers=bearer(token)).status_code == 204


def test_service_token_with_write_scope_updates_a_currency(server: LocalServer) -> None:
    token = server.token("--client", "service", "--scope", "currencies/write")
    claims = tokens.claims_of(token)
    assert claims["scope"] == "currencies/write"
    response = httpx.patch(
        f"{server.api}/CHF",
        content=b'{"symbol": "Fr."}',
        headers={**bearer(token), "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["updatedBy"] == claims["client_id"]
    assert response.json()["createdBy"] != claims["client_id"]


def test_served_spec_offers_the_bearer_scheme_to_swagger_ui(server: LocalServer) -> None:
    spec = httpx.get(server.spec).json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    served = {
        (method, path): operation.get("security", spec["security"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation in secured_operations():
        requirements = served[(operation.method, operation.path)]
        # An alternative of bearerAuth alone: one pasted token authorizes the operation.
        assert {"bearerAuth": []} in requirements, operation
    ui = httpx.get(server.swagger_ui)
    assert ui.status_code == 200
    assert "/openapi.json" in ui.text
    config = httpx.get(f"{server.swagger_ui}swagger-ui-config.json").json()
    assert config["persistAuthorization"] is True


def test_served_spec_names_the_url_serve_prints_as_its_server(server: LocalServer) -> None:
    # Swagger UI's Servers list shows it; the printed banner names the same base URL.
    for path, load in (("/openapi.json", json.loads), ("/openapi.yaml", yaml.safe_load)):
        response = httpx.get(f"{server.base}{path}", headers={"Host": "evil.example"})
        assert response.status_code == 200
        assert load(response.text)["servers"] == [
            {"url": server.base, "description": "This server"}
        ]


def test_head_of_the_spec_documents_sends_the_header_fields_of_get(server: LocalServer) -> None:
    for path in ("/openapi.json", "/openapi.yaml"):
        head = httpx.head(f"{server.base}{path}")
        get = httpx.get(f"{server.base}{path}")
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        for name in ("content-type", "content-length", "etag", "cache-control"):
            assert head.headers[name] == get.headers[name], name
        assert int(get.headers["content-length"]) == len(get.content)


def test_a_wrong_media_type_over_http_names_what_the_operation_takes(
    server: LocalServer,
) -> None:
    # uvicorn's scope has no "extensions", where Connexion's routing leaves the operation.
    response = httpx.patch(
        f"{server.base}/currencies/EUR",
        content=b'{"symbol": "E"}',
        headers={"Authorization": f"Bearer {server.token()}", "Content-Type": "application/json"},
    )
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "The media type 'application/json' is not accepted; send application/merge-patch+json."
    )


def test_head_of_a_swagger_ui_page_sends_the_policy_of_get(server: LocalServer) -> None:
    for path in ("", "oauth2-redirect.html"):
        get = httpx.get(f"{server.swagger_ui}{path}")
        head = httpx.head(f"{server.swagger_ui}{path}")
        assert head.content == b""
        for name in ("content-security-policy", "content-length", "content-type"):
            assert head.headers[name] == get.headers[name], (path, name)


def test_request_formed_as_swagger_ui_sends_it_succeeds(server: LocalServer) -> None:
    # What Swagger UI's "Try it out" sends for GET /currencies/{code} once a token is pasted
    # under bearerAuth: the accept header of the response media type and the bearer header.
    token = server.token()
    response = httpx.get(
        f"{server.base}/currencies/EUR",
        headers={"accept": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json()["code"] == "EUR"
