"""Response validation: a handler (or stored data) drifting from the spec fails a test as a 500
instead of reaching a caller.

Tests run with Connexion's response validation on (currency_api.local.settings_for sets
``validate_responses=True``; the ``client`` fixture uses it). In production ``VALIDATE_RESPONSES``
is off by default: validating every response body costs time on every request, and the contract
tests here are what keep the handlers honest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from currency_api.app import create_app
from currency_api.guards import RESPONSE_BREAKS_SPEC
from currency_api.settings import Settings
from currency_api.store import CurrencyStore
from tests.spec_operations import spec_copy

SpecEdit = Callable[[dict[str, Any]], None]


def _shorter_names_in_responses(spec: dict[str, Any]) -> None:
    # Only the response schema narrows: requests still accept "Euro", so the stored data drifts.
    spec["components"]["schemas"]["Currency"]["properties"]["name"] = {
        "type": "string",
        "maxLength": 3,
    }


def _required_region_in_responses(spec: dict[str, Any]) -> None:
    currency = spec["components"]["schemas"]["Currency"]
    currency["properties"]["region"] = {"type": "string"}
    currency["required"].append("region")


def test_tests_run_with_response_validation_on(settings: Settings) -> None:
    assert settings.validate_responses is True


DRIFTS = pytest.mark.parametrize(
    "edit",
    [_shorter_names_in_responses, _required_region_in_responses],
    ids=["name-maxLength-3", "required-region"],
)


@DRIFTS
def test_a_response_that_drifts_from_the_spec_is_a_500_problem_in_tests(
    tmp_path: Path,
    settings: Settings,
    store: CurrencyStore,
    admin: dict[str, str],
    edit: SpecEdit,
) -> None:
    store.create({"code": "EUR", "name": "Euro", "numericCode": "978", "minorUnit": 2}, "seed")
    app = create_app(settings, store=store, spec_path=spec_copy(tmp_path, edit))
    with TestClient(app, raise_server_exceptions=False) as client:
        one = client.get("/currencies/EUR", headers=admin)
        page = client.get("/currencies", headers=admin)
        created = client.post(
            "/currencies",
            json={"code": "USD", "name": "US Dollar", "numericCode": "840", "minorUnit": 2},
            headers=admin,
        )

    for response in (one, page, created):
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 500
        assert problem["detail"] == RESPONSE_BREAKS_SPEC


@DRIFTS
def test_with_response_validation_off_as_in_production_the_drift_reaches_the_caller(
    tmp_path: Path,
    settings: Settings,
    store: CurrencyStore,
    admin: dict[str, str],
    edit: SpecEdit,
) -> None:
    """Why tests must validate: production (VALIDATE_RESPONSES unset) answers the drift as 200."""
    store.create({"code": "EUR", "name": "Euro", "numericCode": "978", "minorUnit": 2}, "seed")
    production = dataclasses.replace(settings, validate_responses=False)
    app = create_app(production, store=store, spec_path=spec_copy(tmp_path, edit))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/currencies/EUR", headers=admin)

    assert response.status_code == 200
    assert response.json()["name"] == "Euro"
