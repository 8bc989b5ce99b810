"""Cursors are opaque and tamper-evident: only what we issued comes back in, and the spec's
``Cursor`` pattern is exactly the form the codec issues (400 outside it, 404 inside it)."""

from __future__ import annotations

import base64
import re
import string
from itertools import product

import pytest
import yaml

from currency_api.app import SPEC_PATH
from currency_api.problems import RequestInvalid, UnknownCursor
from currency_api.store import CURSOR_PATTERN, CursorCodec


def test_cursor_round_trips() -> None:
    codec = CursorCodec("secret", "table")
    assert codec.decode(codec.encode("EUR")) == "EUR"


def test_the_spec_declares_the_pattern_the_codec_checks() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    schema = spec["components"]["parameters"]["Cursor"]["schema"]
    assert schema["pattern"] == CURSOR_PATTERN
    assert schema["minLength"] == schema["maxLength"] == 36


def test_every_cursor_the_codec_issues_matches_the_spec_pattern() -> None:
    codec = CursorCodec("secret", "table")
    pattern = re.compile(CURSOR_PATTERN)
    for letters in product("AMZ", string.ascii_uppercase, "AQZ"):
        assert pattern.fullmatch(codec.encode("".join(letters)))


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "!!!", "", "eyJjIjoiRVVSIn0", "A" * 400, "eyJj", "A" * 35, "A" * 35 + "="],
)
def test_cursor_outside_the_pattern_is_malformed(cursor: str) -> None:
    with pytest.raises(RequestInvalid) as raised:
        CursorCodec("secret", "table").decode(cursor)
    assert raised.value.violations[0].parameter == "cursor"


def test_cursor_with_trailing_characters_after_a_valid_one_is_malformed() -> None:
    codec = CursorCodec("secret", "table")
    with pytest.raises(RequestInvalid):
        codec.decode(codec.encode("EUR") + "A")


@pytest.mark.parametrize("cursor", ["A" * 36, "0" * 36, "_-" * 18])
def test_cursor_of_the_right_form_that_we_did_not_issue_names_no_page(cursor: str) -> None:
    with pytest.raises(UnknownCursor):
        CursorCodec("secret", "table").decode(cursor)


def test_cursor_rejects_a_tampered_payload() -> None:
    codec = CursorCodec("secret", "table")
    raw = bytearray(base64.urlsafe_b64decode(codec.encode("EUR")))
    raw[8] ^= 0x01
    with pytest.raises(UnknownCursor):
        codec.decode(base64.urlsafe_b64encode(bytes(raw)).decode())


def test_cursor_from_another_secret_is_rejected() -> None:
    with pytest.raises(UnknownCursor):
        CursorCodec("other", "table").decode(CursorCodec("secret", "table").encode("EUR"))
