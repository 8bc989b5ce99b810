"""Seeding the ISO 4217 list: real data, idempotent, clear errors that write nothing."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from currency_api import local
from currency_api.cli import main
from currency_api.iso4217 import read_list_one
from currency_api.seed import SeedConflict, seed
from currency_api.store import CurrencyStore, _to_item


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
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no local server state here
    monkeypatch.delenv("TABLE_NAME", raising=False)
    assert main(["seed"]) == 2
    assert "TABLE_NAME" in capsys.readouterr().err


def test_seed_command_says_when_the_local_server_named_by_its_state_is_gone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The state of a local server that was killed (no clean exit removed its file).
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    local.LocalCognito(
        endpoint=dead,
        region="us-east-1",
        user_pool_id="us-east-1_gone",
        public_client_id="public",
        service_client_id="service",
        service_client_secret="secret",  # dummy: nothing is reached
        admin_username="admin",
        reader_username="reader",
        password="unused",
        dynamodb_endpoint=dead,
    ).save()
    assert main(["seed"]) == 1
    err = capsys.readouterr().err
    assert f"nothing answers at the local server's emulator at {dead}" in err
    assert "Traceback" not in err


def _list_one(tmp_path: Path, *entries: tuple[str, str, str]) -> Path:
    """A list-one XML file with (code, name, numeric code) entries, minor unit 2."""
    rows = "".join(
        f"<CcyNtry><CtryNm>X</CtryNm><CcyNm>{name}</CcyNm><Ccy>{code}</Ccy>"
        f"<CcyNbr>{numeric}</CcyNbr><CcyMnrUnts>2</CcyMnrUnts></CcyNtry>\n"
        for code, name, numeric in entries
    )
    path = tmp_path / "list-one.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<ISO_4217 Pblshd="2026-01-01">\n<CcyTbl>\n{rows}'
        "</CcyTbl>\n</ISO_4217>\n"
    )
    return path


def test_seed_command_refuses_a_list_giving_one_numeric_code_twice_and_writes_nothing(
    store: CurrencyStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    path = _list_one(tmp_path, ("AAA", "Alpha", "901"), ("BBB", "Beta", "902"), ("CCC", "C", "901"))
    monkeypatch.setenv("TABLE_NAME", store.table_name)
    assert main(["seed", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert "901 for AAA (in the list) and CCC (in the list)" in err
    assert "Nothing was written" in err
    assert "currency/s" not in err  # no progress bar before the error
    assert store.list(100).items == []


def test_seed_refuses_a_numeric_code_a_stored_currency_holds(
    store: CurrencyStore, tmp_path: Path
) -> None:
    store.create({"code": "XYZ", "name": "Mine", "numericCode": "978", "minorUnit": 2}, "me")
    with pytest.raises(SeedConflict, match=r"978 for EUR \(in the list\) and XYZ \(in the table\)"):
        seed(store._client, store.table_name, read_list_one())
    assert [c["code"] for c in store.list(100).items] == ["XYZ"]


def test_seed_on_a_table_without_reservations_adds_them_and_uniqueness_holds_after(
    store: CurrencyStore, client: TestClient, admin: dict[str, str]
) -> None:
    # A table written before numeric codes were reserved: currencies only.
    for code, numeric in (("EUR", "978"), ("ABC", "899")):
        at = "2026-01-01T00:00:00.000Z"
        item = {"code": code, "name": code, "numericCode": numeric, "minorUnit": 2}
        item |= {"version": 1, "createdAt": at, "updatedAt": at}
        item |= {"createdBy": "before", "updatedBy": "before"}
        store._client.put_item(TableName=store.table_name, Item=_to_item(item))
    summary = seed(store._client, store.table_name, read_list_one())
    assert (summary.created, summary.updated, summary.reserved) == (177, 1, 1)
    taken = client.post(
        "/currencies",
        json={"code": "XYZ", "name": "X", "numericCode": "899", "minorUnit": 2},
        headers=admin,
    )
    assert taken.status_code == 409
    assert "'ABC'" in taken.json()["detail"]


def test_seed_command_finds_the_local_server_from_its_state_file(
    store: CurrencyStore,
    cognito: local.LocalCognito,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    dataclasses.replace(cognito, table_name=store.table_name).save()
    assert main(["seed"]) == 0
    assert store.get("CHF")["name"] == "Swiss Franc"


def test_seed_command_without_table_or_local_state_says_where_it_looked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    assert main(["seed"]) == 2
    err = capsys.readouterr().err
    assert "TABLE_NAME" in err
    assert str(tmp_path / ".currency-api" / "local.json") in err


def test_seed_command_on_a_missing_table_suggests_create_table_and_draws_no_bar(
    dynamodb: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    assert main(["seed"]) == 1
    err = capsys.readouterr().err
    assert "there is no table 'no-such-table'" in err
    assert "--create-table" in err
    assert "currency/s" not in err
