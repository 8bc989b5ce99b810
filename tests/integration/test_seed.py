"""Seeding the ISO 4217 list: real data, idempotent, clear errors that write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from currency_api.cli import main
from currency_api.iso4217 import read_list_one
from currency_api.seed import seed
from currency_api.store import CurrencyStore


def test_seed_loads_the_shipped_list_with_iso_fields(store: CurrencyStore) -> None:
    summary = seed(store._client, store.table_name, read_list_one())
    assert (summary.created, summary.updated, summary.unchanged) == (178, 0, 0)
    usd, jpy, xau = store.get("USD"), store.get("JPY"), store.get("XAU")
    assert (usd["numericCode"], usd["minorUnit"]) == ("840", 2)
    assert (jpy["numericCode"], jpy["minorUnit"]) == ("392", 0)
    assert (xau["numericCode"], xau["minorUnit"]) == ("959", None)
    assert store.get("ALL")["numericCode"] == "008"


def test_seed_twice_reports_everything_unchanged(store: CurrencyStore) -> None:
    seed(store._client, store.table_name, read_list_one())
    before = store.get("EUR")
    summary = seed(store._client, store.table_name, read_list_one())
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 178)
    assert store.get("EUR") == before


def test_seed_updates_a_changed_iso_field_and_keeps_user_symbols(store: CurrencyStore) -> None:
    seed(store._client, store.table_name, read_list_one())
    store.write(
        "EUR",
        lambda c: {**c, "name": "Old name", "symbol": "€"},
        "tester",
        lambda _c: None,
    )
    summary = seed(store._client, store.table_name, read_list_one())
    assert (summary.updated, summary.unchanged) == (1, 177)
    eur = store.get("EUR")
    assert (eur["name"], eur["symbol"], eur["version"]) == ("Euro", "€", 3)


def test_seed_command_reports_progress_and_summary(
    store: CurrencyStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TABLE_NAME", store.table_name)
    assert main(["seed"]) == 0
    assert main(["seed", "--symbols"]) == 0
    out = capsys.readouterr()
    assert "178 currencies: created 178, updated 0, unchanged 0" in out.out
    assert "currency" in out.err  # tqdm's progress bar
    assert store.get("USD")["symbol"] == "$"


def test_seed_command_with_bad_xml_names_file_and_line_and_writes_nothing(
    store: CurrencyStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    bad = tmp_path / "list-one.xml"
    bad.write_text('<?xml version="1.0"?>\n<ISO_4217>\n<CcyTbl>\n<CcyNtry><Ccy>EUR</Ccy>\n')
    monkeypatch.setenv("TABLE_NAME", store.table_name)
    assert main(["seed", "--file", str(bad)]) == 1
    assert f"{bad}:5:" in capsys.readouterr().err
    assert store.list(100).items == []


def test_seed_command_can_create_the_table(
    dynamodb: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from currency_api.store import create_client

    client = create_client("us-east-1")
    monkeypatch.setenv("TABLE_NAME", "seeded-by-cli")
    try:
        assert main(["seed", "--create-table"]) == 0
        assert CurrencyStore(client, "seeded-by-cli").get("CHF")["name"] == "Swiss Franc"
    finally:
        client.delete_table(TableName="seeded-by-cli")


def test_seed_command_names_a_missing_table_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    assert main(["seed"]) == 2
    assert "TABLE_NAME" in capsys.readouterr().err
