"""Modules Connexion imports but our configuration never runs are loaded on first use only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from currency_api import deferred_imports
from tests.lambda_.events import fresh_interpreter_environment

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: this test process imported requests long ago (moto, schemathesis).
RUNNER = r"""
import json, sys
from currency_api import deferred_imports
from currency_api.lambda_adapter import build_adapter
from currency_api.settings import Settings
from tests.lambda_.events import http_api_v2

adapter = build_adapter(Settings.from_env(), on_lambda=False)
answer = adapter(http_api_v2("GET", "/health"), None)
deferred_after_answer = deferred_imports.is_deferred("requests")
import connexion.json_schema
get = connexion.json_schema.requests.get  # the first touch runs the module
import requests
print(json.dumps({
    "status": answer["statusCode"],
    "deferred_after_answer": deferred_after_answer,
    "deferred_after_touch": deferred_imports.is_deferred("requests"),
    "same_function": get is requests.api.get,
    "charset_normalizer": "charset_normalizer" in sys.modules,
}))
"""


def test_requests_stays_unloaded_through_a_request_and_loads_whole_on_first_use() -> None:
    environment = fresh_interpreter_environment()
    done = subprocess.run(  # noqa: S603  (our interpreter and script)
        [sys.executable, "-c", RUNNER],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "status": 200,
        "deferred_after_answer": True,
        "deferred_after_touch": False,
        "same_function": True,
        "charset_normalizer": True,
    }


def test_only_the_named_modules_are_deferred() -> None:
    finder = deferred_imports.DeferredFinder(frozenset({"requests"}))
    assert finder.find_spec("json", None) is None
    spec = finder.find_spec("requests", None)
    assert spec is not None
    assert type(spec.loader).__name__ == "LazyLoader"


def test_a_module_that_does_not_exist_is_still_not_found() -> None:
    finder = deferred_imports.DeferredFinder(frozenset({"no_such_module_anywhere"}))
    assert finder.find_spec("no_such_module_anywhere", None) is None
