"""On Lambda the served spec names the stage URL the gateway reports, never a caller's Host."""

from __future__ import annotations

import json

import pytest
import yaml

from currency_api.spec_document import load_spec
from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2

DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("stage", "url"), [("$default", f"https://{DOMAIN}"), ("prod", f"https://{DOMAIN}/prod")]
)
def test_openapi_json_names_the_gateway_domain_and_stage(
    handler: Handler, stage: str, url: str
) -> None:
    event = http_api_v2("GET", "/openapi.json", stage=stage, headers={"host": "evil.example"})
    result = handler(event, LambdaContext())
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["servers"] == [{"url": url, "description": "This server"}]
    assert "evil.example" not in result["body"]


def test_openapi_yaml_names_the_same_server(handler: Handler) -> None:
    result = handler(http_api_v2("GET", "/openapi.yaml", stage="prod"), LambdaContext())
    assert result["statusCode"] == 200
    assert yaml.safe_load(result["body"])["servers"][0]["url"] == f"https://{DOMAIN}/prod"


def test_the_served_document_is_the_spec_as_written_with_its_references(handler: Handler) -> None:
    result = handler(http_api_v2("GET", "/openapi.json"), LambdaContext())
    served = json.loads(result["body"])
    written = load_spec()
    assert served["components"] == json.loads(json.dumps(written["components"]))
    assert served["paths"] == json.loads(json.dumps(written["paths"]))
    assert '"$ref": "#/components/schemas/Currency"' in result["body"]
    assert len(result["body"]) < 2 * len(json.dumps(written))
