"""Contract-test fixtures: the whole app in process over a seeded table, and a Schemathesis view of
it that sends the admin's real access token."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Final

import pytest
import schemathesis
from connexion import AsyncApp

from currency_api.app import create_app
from currency_api.settings import Settings
from currency_api.store import CurrencyStore

#: Examples per operation in Schemathesis' fuzzing phase. `make test` keeps the default;
#: `make fuzz` raises it through CONTRACT_MAX_EXAMPLES.
MAX_EXAMPLES: Final = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "150"))
#: Stateful scenarios (create, then linked operations) per run; `make fuzz` raises it.
STATEFUL_SCENARIOS: Final = int(os.environ.get("CONTRACT_STATEFUL_SCENARIOS", "80"))
#: A fixed seed, so `make test` sends the same requests on every run. `make fuzz` picks a new one
#: per run unless CONTRACT_SEED is set, and prints it.
SEED: Final = int(os.environ.get("CONTRACT_SEED", "20260101"))

#: Currencies in the table before Schemathesis starts: its examples phase uses the spec's
#: example code EUR, so reads and writes of an existing currency are exercised too.
SEEDED: Final[tuple[dict[str, Any], ...]] = (
    {"code": "EUR", "name": "Euro", "numericCode": "978", "minorUnit": 2, "symbol": "€"},
    {"code": "USD", "name": "US Dollar", "numericCode": "840", "minorUnit": 2},
    {"code": "XAU", "name": "Gold", "numericCode": "959", "minorUnit": None},
)

#: The repository's Schemathesis configuration: the stock CLI reads it from the working
#: directory, and these tests and `make fuzz` read the same file.
CONFIG_FILE: Final = Path(__file__).resolve().parents[2] / "schemathesis.toml"

#: Statuses no valid request carrying the admin's valid token may get: the stock CLI accepts
#: them (it cannot know the token is valid), these tests do not.
AUTH_FAILURES: Final = frozenset({"401", "403"})


def schemathesis_config() -> schemathesis.Config:
    """schemathesis.toml, with the budget of this run and two tightenings.

    - ``positive_data_acceptance`` takes its expected statuses from the file (the RFC 9110
      412), less 401 and 403: every request here carries a valid admin token.
    - ``errors_are_problem_details`` (ours) is on: in process there is no gateway, so every
      4xx and 5xx is the app's own problem+json.
    """
    document = tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    checks = document.setdefault("checks", {})
    acceptance = checks.setdefault("positive_data_acceptance", {})
    acceptance["expected-statuses"] = [
        status for status in acceptance["expected-statuses"] if status not in AUTH_FAILURES
    ]
    checks["errors_are_problem_details"] = {"enabled": True}
    document["seed"] = SEED
    document["generation"] = {
        **document.get("generation", {}),
        "mode": "all",
        "max-examples": MAX_EXAMPLES,
        "database": "none",
    }
    return schemathesis.Config.from_dict(document)


@schemathesis.check
def errors_are_problem_details(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Every 4xx and 5xx, documented or not (a 405 from routing, say), is an RFC 9457 problem:
    ``application/problem+json`` with ``type``, ``title`` and the response's own ``status``."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    assert content_type == "application/problem+json", (
        f"{response.status_code} answered with Content-Type {content_type!r}"
    )
    body = response.json()
    assert isinstance(body, dict), f"problem is not an object: {body!r}"
    assert isinstance(body.get("type"), str), f"problem without type: {body!r}"
    assert isinstance(body.get("title"), str), f"problem without title: {body!r}"
    assert body.get("status") == response.status_code, f"problem status differs: {body!r}"
    return True


def reset_table(store: CurrencyStore) -> None:
    """Delete every currency, then store :data:`SEEDED` again."""
    cursor = None
    while True:
        page = store.list(100, cursor)
        for currency in page.items:
            store.delete(currency["code"])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    for currency in SEEDED:
        store.create(currency, "contract-seed")


@pytest.fixture
def contract_app(settings: Settings, store: CurrencyStore) -> AsyncApp:
    """The app (response validation on) over a fresh table holding :data:`SEEDED`."""
    reset_table(store)
    return create_app(settings, store=store)


@pytest.fixture
def api_schema(contract_app: AsyncApp, admin_token: str) -> Any:
    """The spec as the app serves it at /openapi.json, bound to the app in process.

    Every generated request carries the admin's real access token (a user in the admin group, so
    writes are allowed) through Schemathesis' auth hook; the app's security stays on, and cases
    where Schemathesis deliberately drops or corrupts the credentials still reach it that way.
    """
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", contract_app, config=schemathesis_config()
    )

    @schema.auth()
    class AdminToken:
        def get(self, case: schemathesis.Case[Any], context: schemathesis.AuthContext) -> str:
            return admin_token

        def set(
            self, case: schemathesis.Case[Any], data: str, context: schemathesis.AuthContext
        ) -> None:
            case.headers["Authorization"] = f"Bearer {data}"

    return schema
