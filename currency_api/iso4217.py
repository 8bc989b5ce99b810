"""Reads the official ISO 4217 list one (XML, as the maintenance agency publishes it)."""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


class Iso4217Error(ValueError):
    """The file is not a valid list one; the message names the file and the line."""


Fail = Callable[[str], Iso4217Error]


@dataclass(frozen=True, slots=True)
class IsoCurrency:
    """One currency of list one: alpha code, numeric code (3 digits), minor unit or None."""

    code: str
    name: str
    numeric_code: str
    minor_unit: int | None


_FIELDS = {"Ccy", "CcyNm", "CcyNbr", "CcyMnrUnts"}


def shipped_list_one() -> Path:
    """Path of the list one XML shipped in the ``iso4217`` package on PyPI."""
    return Path(str(resources.files("iso4217").joinpath("table.xml")))


def published_date(path: Path) -> str | None:
    """The ``Pblshd`` date of a list one file, if present."""
    return _parse(path)[1]


def read_list_one(path: Path | None = None) -> list[IsoCurrency]:
    """Currencies of list one, one per alpha code, in file order.

    Entries without a currency (e.g. ANTARCTICA) are skipped; a code listed for several
    countries appears once. ``CcyMnrUnts`` "N.A." becomes None.
    Source of the format: ISO 4217 maintenance agency, list one (SIX Group).

    Raises:
        Iso4217Error: malformed XML, an entity declaration, or an entry with a bad field;
            the message names the file and line.
        OSError: the file cannot be read.
    """
    return _parse(path or shipped_list_one())[0]


def _parse(path: Path) -> tuple[list[IsoCurrency], str | None]:
    parser = xml.parsers.expat.ParserCreate()
    result: dict[str, IsoCurrency] = {}
    entry: dict[str, str] = {}
    entry_line = 0
    text: list[str] = []
    published: list[str] = []

    def fail(line: int, message: str) -> Iso4217Error:
        return Iso4217Error(f"{path}:{line}: {message}")

    def no_entities(*_args: object) -> None:
        raise fail(parser.CurrentLineNumber, "entity declarations are not allowed")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal entry_line
        if name == "ISO_4217" and "Pblshd" in attrs:
            published.append(attrs["Pblshd"])
        if name == "CcyNtry":
            entry.clear()
            entry_line = parser.CurrentLineNumber
        text.clear()

    def end(name: str) -> None:
        if name in _FIELDS:
            entry[name] = "".join(text).strip()
        elif name == "CcyNtry" and "Ccy" in entry:
            currency = _entry(entry, lambda message: fail(entry_line, message))
            result.setdefault(currency.code, currency)
        text.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    parser.EntityDeclHandler = no_entities
    parser.ExternalEntityRefHandler = no_entities  # type: ignore[assignment]
    try:
        with path.open("rb") as file:
            parser.ParseFile(file)
    except xml.parsers.expat.ExpatError as exc:
        raise fail(
            exc.lineno, f"not well-formed XML ({xml.parsers.expat.errors.messages[exc.code]})"
        ) from None
    if not result:
        raise fail(parser.CurrentLineNumber, "no currency entries (CcyNtry with Ccy) found")
    return list(result.values()), (published[0] if published else None)


def _entry(entry: dict[str, str], fail: Fail) -> IsoCurrency:
    code = entry.get("Ccy", "")
    if len(code) != 3 or not code.isascii() or not code.isupper() or not code.isalpha():
        raise fail(f"Ccy {code!r} is not three upper-case letters")
    name = entry.get("CcyNm", "")
    if not 1 <= len(name) <= 100:
        raise fail(f"CcyNm of {code} must have 1 to 100 characters")
    numeric = entry.get("CcyNbr", "")
    if len(numeric) != 3 or not numeric.isascii() or not numeric.isdigit():
        raise fail(f"CcyNbr {numeric!r} of {code} is not three digits")
    units = entry.get("CcyMnrUnts", "")
    if units == "N.A.":
        minor: int | None = None
    elif units.isascii() and units.isdigit() and 0 <= int(units) <= 4:
        minor = int(units)
    else:
        raise fail(f"CcyMnrUnts {units!r} of {code} is neither 0 to 4 nor N.A.")
    return IsoCurrency(code, name, numeric, minor)
