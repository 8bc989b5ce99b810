"""The request headers as parameter validation reads them: one entry per name, its field lines
joined with ", " (RFC 9110 section 5.3)."""

from __future__ import annotations

from starlette.datastructures import Headers

from currency_api.validation import _JoinedFields


def test_a_name_on_several_lines_is_one_entry_of_its_joined_lines() -> None:
    raw = [(b"if-match", b'"a"'), (b"host", b"api"), (b"if-match", b'"b"')]
    fields = _JoinedFields(Headers(raw=raw))
    assert list(fields) == ["if-match", "host"]
    assert len(fields) == 2
    assert dict(fields) == {"if-match": '"a", "b"', "host": "api"}
    assert fields.get("If-Match") == '"a", "b"'
    assert fields.get("if-none-match") is None
