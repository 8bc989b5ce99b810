"""Text in request bodies as the spec defines it: NFC-normalised before it is validated, counted
and stored, with a bound on stacked combining marks.

The character rules themselves (no control or format characters, a visible character) are the
spec's patterns on ``CurrencyName`` and ``Symbol``, which Connexion checks after this step.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

#: Longest run of combining marks (general categories Mn and Me) after NFC. Composed text in
#: living scripts needs at most a few (Vietnamese two, most Indic clusters two or three); a
#: longer run is "Zalgo" text that piles marks on one letter within maxLength.
MAX_COMBINING_RUN: Final = 4
_COMBINING: Final = frozenset({"Mn", "Me"})


class TextRuleBroken(ValueError):
    """A string of the body breaks a text rule: where (``pointer``, RFC 6901) and how."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(f"{pointer or '/'} {detail}")
        self.pointer = pointer
        self.detail = detail


def normalized(document: Any, pointer: str = "") -> Any:
    """``document`` (parsed JSON) with every string value in NFC (Unicode Standard Annex #15),
    so that what is validated, counted against ``maxLength`` and stored is the composed form.

    Raises:
        TextRuleBroken: a string has more than :data:`MAX_COMBINING_RUN` combining marks in a
            row after normalisation; its ``pointer`` (RFC 6901) starts with ``pointer``.
    """
    try:
        return _normalized(document)
    except _Broken as broken:
        where = "".join(f"/{part}" for part in reversed(broken.parts))
        raise TextRuleBroken(pointer + where, broken.detail) from None


class _Broken(Exception):
    """A text rule broken below the value being normalised; ``parts`` are the JSON Pointer
    reference tokens from the string up (the pointer is only built when a rule is broken)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parts: list[str] = []


def _normalized(document: Any) -> Any:
    if isinstance(document, str):
        if document.isascii():
            return document  # ASCII text is in NFC and has no combining marks
        text = unicodedata.normalize("NFC", document)
        _check_combining(text)
        return text
    if isinstance(document, dict):
        result = {}
        for name, value in document.items():
            try:
                result[name] = _normalized(value)
            except _Broken as broken:
                broken.parts.append(_escape(name))
                raise
        return result
    if isinstance(document, list):
        items = []
        for index, value in enumerate(document):
            try:
                items.append(_normalized(value))
            except _Broken as broken:
                broken.parts.append(str(index))
                raise
        return items
    return document


def _check_combining(text: str) -> None:
    if text.isascii():
        return
    run = 0
    for character in text:
        if unicodedata.category(character) in _COMBINING:
            run += 1
            if run > MAX_COMBINING_RUN:
                raise _Broken(
                    f"must not have more than {MAX_COMBINING_RUN} combining marks in a row"
                )
        else:
            run = 0


def _escape(name: str) -> str:
    """A member name as a JSON Pointer reference token (RFC 6901 section 3)."""
    return name.replace("~", "~0").replace("/", "~1")
