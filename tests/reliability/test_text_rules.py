"""Names and symbols are text a person can read: the spec's patterns (read alike by Python ``re``
and ECMA-262, checked in Node), NFC before counting and storing, over real HTTP."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from currency_api.app import load_spec
from currency_api.iso4217 import read_list_one
from currency_api.store import CurrencyStore
from currency_api.text import MAX_COMBINING_RUN
from tests.conftest import euro
from tests.problems import assert_problem
from tests.reliability.conftest import LiveServer, RawResponse, raw_request

SCHEMAS = load_spec()["components"]["schemas"]
NAME_PATTERN: str = SCHEMAS["CurrencyName"]["pattern"]
#: Every place the spec declares the rule.
PATTERNS = {
    "CurrencyName": NAME_PATTERN,
    "Symbol": SCHEMAS["Symbol"]["pattern"],
    "CurrencyPatch.symbol": SCHEMAS["CurrencyPatch"]["properties"]["symbol"]["pattern"],
}
#: General categories no name or symbol may hold (control, format, surrogate, private use,
#: line and paragraph separators).
FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
JSON = ("Content-Type", "application/json")
MERGE_PATCH = ("Content-Type", "application/merge-patch+json")

HOSTILE = {
    "NUL": "Eu\x00ro",
    "right-to-left override": "Euro\u202e",
    "a lone zero-width space": "\u200b",
    "only spaces": "    ",
    "only no-break spaces": "\u00a0\u3000",
    "CRLF": "Euro\r\nSet-Cookie: x",
    "a trailing newline": "Euro\n",
    "a tab": "Eu\tro",
    "a line separator": "Eu\u2028ro",
    "a byte order mark": "\ufeffEuro",
    "a private-use character": "Euro\ue000",
    "an emoji outside the BMP": "Euro \U0001f4b6",
    "only a Hangul filler": "\u3164",
    "99 combining marks": "e" + "\u0301" * 99,
    "marks over the run bound": "a"
    + "".join(chr(0x0316 + i) for i in range(MAX_COMBINING_RUN + 1)),
}


def pattern_accepts(text: str) -> bool:
    """How Connexion's validator (jsonschema: ``re.search``) reads the spec's pattern."""
    return re.search(NAME_PATTERN, text) is not None


@pytest.fixture(scope="module")
def module_store(dynamodb: Any) -> Iterator[CurrencyStore]:
    store = CurrencyStore(dynamodb, f"currencies-{uuid.uuid4().hex[:12]}", "test-secret")
    store.ensure_table()
    store.create(euro(), "seed")
    yield store
    dynamodb.delete_table(TableName=store.table_name)


def send(
    port: int, method: str, path: str, headers: list[tuple[str, str]], body: Any
) -> RawResponse:
    return raw_request(port, method, path, headers, json.dumps(body).encode())


def assert_400(response: RawResponse) -> None:
    assert_problem(response, 400)


# The patterns


def test_every_place_declares_the_same_pattern() -> None:
    assert set(PATTERNS.values()) == {NAME_PATTERN}


def test_the_pattern_refuses_every_bmp_code_point_of_a_forbidden_category() -> None:
    letters = [chr(cp) for cp in range(0x10000)]
    accepted = [c for c in letters if pattern_accepts(f"a{c}")]
    forbidden = [c for c in accepted if unicodedata.category(c) in FORBIDDEN_CATEGORIES]
    assert forbidden == []
    # ...and keeps the letters, digits, punctuation and symbols of every script.
    kept = {unicodedata.category(c)[0] for c in accepted}
    assert {"L", "N", "P", "S", "M", "Z"} <= kept


def test_all_shipped_iso_4217_names_pass_and_are_nfc() -> None:
    names = [currency.name for currency in read_list_one()]
    assert len(names) == 178
    assert [n for n in names if not pattern_accepts(n)] == []
    assert [n for n in names if unicodedata.normalize("NFC", n) != n] == []


@pytest.mark.parametrize("name", list(HOSTILE), ids=list(HOSTILE))
def test_the_pattern_or_the_combining_bound_refuses_hostile_text(name: str) -> None:
    text = unicodedata.normalize("NFC", HOSTILE[name])
    run_too_long = "combining" in name or "marks" in name
    assert run_too_long or not pattern_accepts(text)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node (ECMA-262) is not installed")
def test_ecma_262_reads_the_pattern_as_python_does() -> None:
    # Without the u flag (OpenAPI 3.0 patterns are ECMA-262 regular expressions): every BMP
    # code point after a letter, the ISO names and the hostile strings get the same verdict.
    samples = [f"a{chr(cp)}" for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF]
    samples += [c.name for c in read_list_one()] + list(HOSTILE.values())
    samples += ["Euro\n", "Euro\r", " ", "x", "\u00e9" * 100]
    script = (
        "const p = new RegExp(process.argv[1]);"
        "let d = '';process.stdin.on('data', c => d += c).on('end', () => {"
        "const xs = JSON.parse(d); process.stdout.write(JSON.stringify(xs.map(x => p.test(x))));"
        "});"
    )
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(  # noqa: S603 (node with our own script)
        [node, "-e", script, NAME_PATTERN],
        input=json.dumps(samples),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ecma = json.loads(result.stdout)
    python = [pattern_accepts(s) for s in samples]
    differing = [s for s, a, b in zip(samples, ecma, python, strict=True) if a != b]
    assert differing == []


# Over HTTP


@pytest.mark.parametrize("name", list(HOSTILE), ids=list(HOSTILE))
def test_a_hostile_name_is_a_400_on_create_replace_and_patch(
    live: LiveServer, auth: tuple[str, str], name: str
) -> None:
    text = HOSTILE[name]
    assert_400(send(live.port, "POST", "/currencies", [auth, JSON], euro(code="QHN", name=text)))
    assert_400(send(live.port, "PUT", "/currencies/EUR", [auth, JSON], euro(name=text)))
    assert_400(send(live.port, "PATCH", "/currencies/EUR", [auth, MERGE_PATCH], {"name": text}))
    if len(text) <= 10:
        assert_400(
            send(live.port, "PATCH", "/currencies/EUR", [auth, MERGE_PATCH], {"symbol": text})
        )
    assert raw_request(live.port, "GET", "/currencies/QHN", [auth]).status == 404


def test_a_name_is_counted_and_stored_in_nfc(
    live: LiveServer, auth: tuple[str, str], module_store: CurrencyStore
) -> None:
    # 100 decomposed "é" are 200 code points, 100 once composed: within maxLength.
    decomposed = "e\u0301" * 100
    body = euro(code="QNF", numericCode="998", name=decomposed, symbol="e\u0301")
    response = send(live.port, "POST", "/currencies", [auth, JSON], body)
    assert response.status == 201, response.body
    composed = "\u00e9" * 100
    assert response.json()["name"] == composed
    assert response.json()["symbol"] == "\u00e9"
    assert module_store.get("QNF")["name"] == composed
    patched = send(live.port, "PATCH", "/currencies/QNF", [auth, MERGE_PATCH], {"name": "A\u030a"})
    assert patched.json()["name"] == "\u00c5"


def test_marks_within_the_run_bound_are_accepted(live: LiveServer, auth: tuple[str, str]) -> None:
    marks = "".join(chr(0x0316 + i) for i in range(MAX_COMBINING_RUN))
    response = send(
        live.port, "PATCH", "/currencies/EUR", [auth, MERGE_PATCH], {"name": f"a{marks}"}
    )
    assert response.status == 200, response.body


@pytest.mark.parametrize("schema", sorted(PATTERNS))
def test_every_string_the_pattern_accepts_matches_it_and_is_no_longer_after_nfc(
    schema: str,
) -> None:
    """The app validates the NFC form, so a value the spec's pattern accepts must keep
    matching it after NFC, or a schema-valid request would be refused (Schemathesis found
    ``\\ufa6c``, which NFC replaces with a character outside the Basic Multilingual Plane)."""
    pattern = re.compile(PATTERNS[schema])
    admitted = [chr(c) for c in range(0x10000) if pattern.match(chr(c) + "a")]
    assert len(admitted) > 50_000
    changed = [c for c in admitted if unicodedata.normalize("NFC", c) != c]
    assert changed == []
    for text in ("\u0041\u030a", "e\u0301" * 50, "\u1100\u1161\u11a8", "\u00c5\u0301"):
        assert pattern.match(text)
        composed = unicodedata.normalize("NFC", text)
        assert pattern.match(composed)
        assert len(composed) <= len(text)
