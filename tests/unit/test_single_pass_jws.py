"""The single-pass JWS decoder accepts and refuses exactly what PyJWT's own decoder does."""

from __future__ import annotations

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.api_jws import PyJWS

from currency_api.auth import _SinglePassJWS
from tests import tokens

#: The base64url alphabet, padding, and characters PyJWT must refuse (standard base64's
#: ``+`` and ``/``, white space, a dot, non-ASCII).
ALPHABET = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" + "=" * 8 + "+/ .\n\xe9!"
)


def outcome(segment: bytes, decode: object) -> tuple[str, object]:
    try:
        return "ok", decode(segment, "payload")  # type: ignore[operator]
    except jwt.DecodeError as exc:
        return "error", str(exc)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_segment_decoding_matches_pyjwt_for_any_input(text: str) -> None:
    segment = text.encode()
    assert outcome(segment, _SinglePassJWS._decode_base64url_segment) == outcome(
        segment, PyJWS._decode_base64url_segment
    )


@pytest.mark.parametrize(
    "segment",
    [b"", b"QQ", b"QQ==", b"QQ=", b"QQ===", b"Q", b"QR", b"QUI", b"QUI=", b"!!!!", b"QQ==QQ=="],
)
def test_segment_decoding_matches_pyjwt_on_padding_edge_cases(segment: bytes) -> None:
    assert outcome(segment, _SinglePassJWS._decode_base64url_segment) == outcome(
        segment, PyJWS._decode_base64url_segment
    )


def test_a_plain_key_still_verifies_as_with_pyjwt() -> None:
    key = tokens.other_rsa_key("single-pass")
    token = tokens.sign({"sub": "x"}, key, "k1")
    decoded = _SinglePassJWS().decode_complete(token, key.public_key(), algorithms=["RS256"])
    assert decoded == PyJWS().decode_complete(token, key.public_key(), algorithms=["RS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        _SinglePassJWS().decode_complete(
            token, tokens.other_rsa_key("other").public_key(), algorithms=["RS256"]
        )
