"""A constraint changed in the YAML changes the running behaviour, with no code change."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from currency_api.app import create_app
from currency_api.settings import Settings
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.spec_operations import spec_copy


def _spec_with_name_max_length(tmp_path: Path, max_length: int) -> Path:
    def narrow(spec: dict[str, Any]) -> None:
        spec["components"]["schemas"]["CurrencyName"]["maxLength"] = max_length

    return spec_copy(tmp_path, narrow)


def test_narrowing_name_max_length_in_the_spec_rejects_longer_names(
    tmp_path: Path, settings: Settings, store: CurrencyStore, admin: dict[str, str]
) -> None:
    name = "A name of twenty-six chars"
    assert len(name) == 26
    with TestClient(create_app(settings, store=store)) as original:
        assert original.post("/currencies", json=euro(name=name), headers=admin).status_code == 201

    edited = create_app(settings, store=store, spec_path=_spec_with_name_max_length(tmp_path, 20))
    with TestClient(edited) as client:
        response = client.post("/currencies", json=euro(code="USD", name=name), headers=admin)
        assert response.status_code == 400
        detail = response.json()["detail"]
        assert detail == "The body member /name must be at most 20 characters long."
        short = client.post("/currencies", json=euro(code="USD", name="US Dollar"), headers=admin)
        assert short.status_code == 201


def test_the_served_spec_is_the_edited_yaml(
    tmp_path: Path, settings: Settings, store: CurrencyStore
) -> None:
    path = _spec_with_name_max_length(tmp_path, 42)
    shutil.copy(path, tmp_path / "copy.yaml")
    with TestClient(create_app(settings, store=store, spec_path=path)) as client:
        served = client.get("/openapi.json").json()
    assert served["components"]["schemas"]["CurrencyName"]["maxLength"] == 42
