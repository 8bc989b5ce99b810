"""Swagger UI in headless Chromium against `currency-api serve`: the Servers list, one pasted
token authorizing every operation, and "Try it out" examples that touch no real currency.

Chromium (Debian's package) and playwright-core (tools/browser) are installed by `make test`
(mk/browser.mk); missing, the test fails: it never skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.local_server import LocalServer, serving

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "browser" / "swagger_ui_authorize.js"
#: Swagger UI under the Content-Security-Policy the API sends (issue 14): prints one
#: ``ok``/``FAIL`` line per check, exits non-zero if any fails.
CSP_SCRIPT = ROOT / "tests" / "browser" / "swagger_ui_csp.js"
NODE_MODULES = ROOT / "tools" / "browser" / "node_modules"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    node = shutil.which("node")
    missing = [
        what
        for what, there in (
            ("node", node is not None),
            (CHROMIUM, Path(CHROMIUM).exists()),
            ("tools/browser playwright-core", (NODE_MODULES / "playwright-core").exists()),
        )
        if not there
    ]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make install-browser` (mk/browser.mk)")
    with serving(tmp_path_factory.mktemp("swagger-ui")) as server:
        found = _run_browser(server, str(node))
        # After the authorize script, on the same server: one server start for both.
        csp = subprocess.run(  # noqa: S603 - node on our own script
            [str(node), str(CSP_SCRIPT)],
            env=_browser_env(server),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        found["csp"] = {"returncode": csp.returncode, "lines": csp.stdout.splitlines()}
        found["csp"]["stderr"] = csp.stderr[-2000:]
        yield found


def _browser_env(server: LocalServer) -> dict[str, str]:
    return {
        **server.env,
        "BASE": server.base,
        "TOKEN": server.token(),
        "NODE_PATH": str(NODE_MODULES),
        "CHROMIUM": CHROMIUM,
    }


def _run_browser(server: LocalServer, node: str) -> dict[str, Any]:
    env = _browser_env(server)
    done = subprocess.run(  # noqa: S603 - node on our own script
        [node, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _spec() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    return document


def _operation(report: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        op for op in report["operations"] if (op["method"], op["path"]) == (method, path)
    )
    return found


def test_servers_list_names_the_url_serve_printed(report: dict[str, Any]) -> None:
    (server,) = report["servers"]
    assert server.startswith("http://127.0.0.1:")
    assert server.split(" ")[0] == report["sent"][0]["url"].split("/currencies")[0]


def test_bearer_field_comes_first_in_the_authorize_dialog(report: dict[str, Any]) -> None:
    assert report["authorizeDialog"][0].startswith("bearerAuth")
    assert any(title.startswith("cognito") for title in report["authorizeDialog"][1:])


def test_one_pasted_token_locks_every_secured_operations_padlock(report: dict[str, Any]) -> None:
    secured = sum(
        1
        for item in _spec()["paths"].values()
        for operation in item.values()
        if operation.get("security", _spec()["security"])
    )
    assert report["locksBefore"] == ["unlocked"] * secured
    assert report["locksAfter"] == ["locked"] * secured
    assert report["sent"]
    assert all(request["authorized"] for request in report["sent"])


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_destructive_operations_default_to_xts_and_work(
    report: dict[str, Any], method: str
) -> None:
    operation = _operation(report, method, "/currencies/{code}")
    assert operation["codeValue"] == "XTS"
    assert operation["status"] == ("204" if method == "delete" else "200")


def test_create_example_is_a_code_iso_does_not_hold_and_creates_it(
    report: dict[str, Any],
) -> None:
    from currency_api.iso4217 import read_list_one

    operation = _operation(report, "post", "/currencies")
    iso = read_list_one()
    assert operation["body"]["code"] not in {c.code for c in iso}
    assert operation["body"]["numericCode"] not in {c.numeric_code for c in iso}
    assert operation["status"] == "201"


def test_reading_the_euro_still_works_after_trying_everything(report: dict[str, Any]) -> None:
    assert _operation(report, "get", "/currencies/{code}")["status"] == "200"
    assert not any(request["url"].endswith("/EUR") for request in report["sent"][1:])


@pytest.mark.parametrize(
    ("method", "conditional"),
    [("get", "If-None-Match"), ("put", "If-Match"), ("patch", "If-Match"), ("delete", "If-Match")],
)
def test_conditional_headers_come_after_the_path_parameter(
    report: dict[str, Any], method: str, conditional: str
) -> None:
    parameters = _operation(report, method, "/currencies/{code}")["parameters"]
    assert parameters == ["path:code", f"header:{conditional}"]


def test_swagger_ui_works_under_its_csp_and_refuses_to_be_framed(report: dict[str, Any]) -> None:
    csp = report["csp"]
    lines = csp["lines"]
    assert csp["returncode"] == 0, "\n".join([*lines, csp["stderr"]])
    assert not [line for line in lines if line.startswith("FAIL")]
    checks = " ".join(lines)
    for expected in ("X-Frame-Options: DENY", "answers 200", "inside a frame", "no CSP violation"):
        assert expected in checks
