"""Cursors are opaque and tamper-evident: only what we issued comes back in."""

from __future__ import annotations

import base64

import pytest

from currency_api.problems import InvalidCursor
from currency_api.store import CursorCodec


def test_cursor_round_trips() -> None:
    codec = CursorCodec("secret", "table")
    assert codec.decode(codec.encode("EUR")) == "EUR"


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "!!!", "", "eyJjIjoiRVVSIn0", "A" * 400, "eyJj"],
)
def test_cursor_rejects_what_we_did_not_issue(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        CursorCodec("secret", "table").decode(cursor)


def test_cursor_rejects_a_truncated_cursor() -> None:
    codec = CursorCodec("secret", "table")
    with pytest.raises(InvalidCursor):
        codec.decode(codec.encode("EUR")[:-3])


def test_cursor_rejects_a_tampered_payload() -> None:
    codec = CursorCodec("secret", "table")
    raw = bytearray(base64.urlsafe_b64decode(codec.encode("EUR") + "=="))
    raw[8] ^= 0x01
    with pytest.raises(InvalidCursor):
        codec.decode(base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="))


def test_cursor_from_another_secret_is_rejected() -> None:
    with pytest.raises(InvalidCursor):
        CursorCodec("other", "table").decode(CursorCodec("secret", "table").encode("EUR"))
