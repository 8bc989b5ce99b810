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
            row after normalisation.
    """
    if isinstance(document, str):
        text = unicodedata.normalize("NFC", document)
        _check_combining(text, pointer)
        return text
    if isinstance(document, dict):
        return {
            name: normalized(value, f"{pointer}/{_escape(name)}")
            for name, value in document.items()
        }
    if isinstance(document, list):
        return [normalized(value, f"{pointer}/{index}") for index, value in enumerate(document)]
    return document


def _check_combining(text: str, pointer: str) -> None:
    if text.isascii():
        return
    run = 0
    for character in text:
        if unicodedata.category(character) in _COMBINING:
            run += 1
            if run > MAX_COMBINING_RUN:
                raise TextRuleBroken(
                    pointer, f"must not have more than {MAX_COMBINING_RUN} combining marks in a row"
                )
        else:
            run = 0


def _escape(name: str) -> str:
    """A member name as a JSON Pointer reference token (RFC 6901 section 3)."""
    return name.replace("~", "~0").replace("/", "~1")
