"""The spec itself: valid OpenAPI 3.0.3, complete for SDK generators, examples that validate."""

from __future__ import annotations

import re
from typing import Any

import pytest
from connexion.utils import get_function_from_name
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from currency_api.app import handler_for
from tests.spec_operations import load_spec, operations


def test_spec_is_valid_openapi_3_0_3() -> None:
    spec = load_spec()
    assert spec["openapi"] == "3.0.3"
    validate(spec)


@pytest.mark.parametrize("operation", operations(), ids=str)
def test_every_operation_has_operation_id_summary_and_tags(operation: Any) -> None:
    assert operation.operation_id
    assert operation.definition.get("summary")
    assert operation.definition.get("tags")
    assert "security" in operation.definition


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    # Local "#/components/..." references resolve against the root: give it the components.
    return OAS30Validator({**schema, "components": spec["components"]})


def _examples(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    found: list[tuple[str, dict[str, Any], Any]] = []
    for name, schema in spec["components"]["schemas"].items():
        if "example" in schema:
            found.append((f"schemas/{name}", schema, schema["example"]))
        for prop, sub in schema.get("properties", {}).items():
            if "example" in sub:
                found.append((f"schemas/{name}/{prop}", sub, sub["example"]))
    for name, response in spec["components"]["responses"].items():
        for media in response.get("content", {}).values():
            if "example" in media:
                found.append((f"responses/{name}", media["schema"], media["example"]))
    for name, param in spec["components"]["parameters"].items():
        if "example" in param:
            found.append((f"parameters/{name}", param["schema"], param["example"]))
    return found


@pytest.mark.parametrize(
    ("where", "schema", "example"),
    _examples(load_spec()),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_example_validates_against_its_schema(
    where: str, schema: dict[str, Any], example: Any
) -> None:
    _validator(load_spec(), schema).validate(example)


def test_an_invalid_example_would_be_caught() -> None:
    spec = load_spec()
    with pytest.raises(ValidationError):
        _validator(spec, spec["components"]["schemas"]["Currency"]).validate({"code": "eur"})


def test_operation_ids_are_unique_lower_camel_case_names() -> None:
    """Generated clients name methods after operationIds (getCurrency, get_currency, ...)."""
    ids = [op.operation_id for op in operations()]
    assert len(set(ids)) == len(ids)
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id), operation_id


@pytest.mark.parametrize("operation", operations(), ids=str)
def test_every_operation_names_its_handler_module_and_function(operation: Any) -> None:
    """``x-openapi-router-controller`` + operationId is the handler that create_app resolves."""
    assert operation.controller.startswith("handlers.")
    assert handler_for(f"{operation.controller}.{operation.operation_id}") is (
        get_function_from_name(operation.handler)
    )


def test_every_link_names_an_operation_of_the_spec() -> None:
    spec = load_spec()
    ids = {op.operation_id for op in operations()}
    for name, link in spec["components"]["links"].items():
        assert link["operationId"] in ids, name


def test_the_store_orders_members_as_the_spec_orders_currency_properties() -> None:
    from currency_api.store import CURRENCY_FIELDS
    from tests.spec_operations import load_spec

    assert list(load_spec()["components"]["schemas"]["Currency"]["properties"]) == list(
        CURRENCY_FIELDS
    )
