"""The local server's metrics: none by default; the same EMF records as on Lambda when asked."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from currency_api.app import create_app
from currency_api.settings import Settings
from currency_api.store import CurrencyStore
from tests.emf import assert_valid_emf, emf_records


def test_the_local_app_writes_no_metrics_by_default(
    settings: Settings, store: CurrencyStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert settings.metrics is False
    with TestClient(create_app(settings, store=store)) as client:
        assert client.get("/health").status_code == 200
    assert emf_records(capsys.readouterr().out) == []


def test_metrics_on_the_local_app_writes_one_emf_record_per_request(
    settings: Settings,
    store: CurrencyStore,
    admin: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What `currency-api serve --metrics` (or METRICS=emf) gives the app.
    local = dataclasses.replace(settings, metrics=True, metrics_namespace="CurrencyApi/local")
    with TestClient(create_app(local, store=store)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/currencies/XXX", headers=admin).status_code == 404

    records = emf_records(capsys.readouterr().out)
    assert [(r["operationId"], r["statusClass"]) for r in records] == [
        ("getHealth", "2xx"),
        ("getCurrency", "4xx"),
    ]
    for record in records:
        assert_valid_emf(record)
        assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CurrencyApi/local"
