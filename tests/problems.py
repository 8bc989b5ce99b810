"""One assertion for problem details answers (RFC 9457), whatever carried them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

PROBLEM = "application/problem+json"


def _parts(answer: Any) -> tuple[int, Mapping[str, str], bytes]:
    """Status, headers and body of a Lambda result, an httpx/Starlette response, or a
    RawResponse (tests/reliability/conftest.py)."""
    if isinstance(answer, Mapping):  # a Lambda proxy result
        raw = answer.get("body") or ""
        body = base64.b64decode(raw) if answer.get("isBase64Encoded") else str(raw).encode()
        headers = {str(k).lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
        return int(answer["statusCode"]), headers, body
    if hasattr(answer, "status_code"):
        return int(answer.status_code), answer.headers, bytes(answer.content)
    return int(answer.status), answer.headers, bytes(answer.body)


def assert_problem(
    answer: Any, status: int, *, nosniff: bool = False, max_bytes: int | None = None
) -> dict[str, Any]:
    """Assert ``answer`` is a ``status`` problem+json with the members RFC 9457 and our spec
    require, no traceback, optionally ``X-Content-Type-Options: nosniff`` and a body shorter
    than ``max_bytes`` (no echo of a large hostile value). Returns the problem."""
    code, headers, body = _parts(answer)
    assert code == status, body[:500]
    assert headers["content-type"].split(";")[0].strip() == PROBLEM
    if nosniff:
        assert headers["x-content-type-options"] == "nosniff"
    if max_bytes is not None:
        assert len(body) < max_bytes, "the answer echoes the request"
    assert b"Traceback" not in body
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == status
    assert problem["title"]
    return problem
