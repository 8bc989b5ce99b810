"""Swagger UI over real HTTP: a Content-Security-Policy that allows exactly the page's own
inline script and style (by hash), nothing framed, and the pasted token kept in the browser
only on local runs (Lambda: tests/lambda_/test_event_bounds.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from tests.reliability.conftest import LiveServer, raw_request


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def inline_hashes(html: bytes, element: str) -> list[str]:
    pattern = rf"<{element}(?![^>]*\bsrc=)[^>]*>(.*?)</{element}>".encode()
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in re.findall(pattern, html, re.DOTALL)
    ]


@pytest.mark.parametrize("path", ["/ui/", "/ui/index.html", "/ui/oauth2-redirect.html"])
def test_swagger_ui_pages_allow_only_their_own_inline_code_and_cannot_be_framed(
    live: LiveServer, path: str
) -> None:
    response = raw_request(live.port, "GET", path)
    assert response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    scripts = inline_hashes(response.body, "script")
    assert scripts, "the page has an inline script"
    assert policy["script-src"] == ["'self'", *scripts]
    assert policy["style-src"] == ["'self'", *inline_hashes(response.body, "style")]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == [
        "'self'",
        "https://currency-api.auth.us-east-1.amazoncognito.com",
    ]
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/ui/swagger-ui-bundle.js", "/ui/swagger-ui.css"])
def test_swagger_ui_files_carry_a_deny_all_policy(live: LiveServer, path: str) -> None:
    response = raw_request(live.port, "GET", path)
    assert response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )


def test_the_api_itself_carries_no_swagger_policy(live: LiveServer) -> None:
    response = raw_request(live.port, "GET", "/health")
    assert "content-security-policy" not in response.headers


def test_a_local_run_persists_the_pasted_token(live: LiveServer) -> None:
    config = raw_request(live.port, "GET", "/ui/swagger-ui-config.json").json()
    assert config["persistAuthorization"] is True


@pytest.mark.parametrize(
    ("range_value", "status"), [("bytes=99999999-", 416), ("bytes=abc", 400), ("items=0-1", 400)]
)
def test_a_range_swagger_ui_files_cannot_serve_is_refused_as_a_problem(
    live: LiveServer, range_value: str, status: int
) -> None:
    # Starlette's file responses refuse these in text/plain; every error of ours is a problem.
    response = raw_request(live.port, "GET", "/ui/swagger-ui.css", headers=[("Range", range_value)])
    assert response.status == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = json.loads(response.body)
    assert problem["status"] == status
    assert response.headers["x-frame-options"] == "DENY"
    if status == 416:
        assert response.headers["content-range"].startswith("bytes */")
    served = raw_request(live.port, "GET", "/ui/swagger-ui.css", headers=[("Range", "bytes=0-9")])
    assert served.status == 206
    assert len(served.body) == 10
