"""The ISO 4217 list one reader: real data in, clear errors with file and line out."""

from __future__ import annotations

from pathlib import Path

import pytest

from currency_api.iso4217 import Iso4217Error, published_date, read_list_one, shipped_list_one


def test_shipped_list_has_178_currencies_with_iso_fields() -> None:
    currencies = {c.code: c for c in read_list_one()}
    assert len(currencies) == 178
    assert (currencies["USD"].numeric_code, currencies["USD"].minor_unit) == ("840", 2)
    assert (currencies["JPY"].numeric_code, currencies["JPY"].minor_unit) == ("392", 0)
    assert (currencies["XAU"].numeric_code, currencies["XAU"].minor_unit) == ("959", None)
    assert currencies["ALL"].numeric_code == "008"
    assert published_date(shipped_list_one()) == "2026-01-01"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "list-one.xml"
    path.write_text(body, encoding="utf-8")
    return path


ENTRY = """<CcyNtry><CtryNm>X</CtryNm><CcyNm>{name}</CcyNm><Ccy>{code}</Ccy>
<CcyNbr>{number}</CcyNbr><CcyMnrUnts>{units}</CcyMnrUnts></CcyNtry>"""


def _list(*entries: str) -> str:
    return (
        '<?xml version="1.0"?>\n<ISO_4217 Pblshd="2027-01-01"><CcyTbl>\n'
        + "\n".join(entries)
        + "\n</CcyTbl></ISO_4217>\n"
    )


def test_user_file_is_read_and_na_becomes_none(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _list(
            ENTRY.format(name="Testo", code="TST", number="001", units="N.A."),
            ENTRY.format(name="Euro", code="EUR", number="978", units="2"),
        ),
    )
    currencies = read_list_one(path)
    assert [(c.code, c.minor_unit) for c in currencies] == [("TST", None), ("EUR", 2)]
    assert published_date(path) == "2027-01-01"


def test_malformed_xml_names_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _list(ENTRY.format(name="Euro", code="EUR", number="978", units="2")).replace(
            "</CcyTbl>", "<CcyTbl>"
        ),
    )
    with pytest.raises(Iso4217Error, match=rf"{path}:\d+: not well-formed"):
        read_list_one(path)


@pytest.mark.parametrize(
    ("field", "entry"),
    [
        ("CcyNbr", ENTRY.format(name="Euro", code="EUR", number="97x", units="2")),
        ("Ccy", ENTRY.format(name="Euro", code="eur", number="978", units="2")),
        ("CcyMnrUnts", ENTRY.format(name="Euro", code="EUR", number="978", units="7")),
    ],
)
def test_bad_field_names_file_line_and_field(tmp_path: Path, field: str, entry: str) -> None:
    path = _write(
        tmp_path, _list(ENTRY.format(name="Lek", code="ALL", number="008", units="2"), entry)
    )
    with pytest.raises(Iso4217Error, match=rf"{path}:5: {field}"):
        read_list_one(path)


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>\n<ISO_4217/>\n',
    )
    with pytest.raises(Iso4217Error, match="entity"):
        read_list_one(path)
