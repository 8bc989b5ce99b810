"""SnapStart hooks: registered in AWS's snapshot-restore-py registry, run here as Lambda would."""

from __future__ import annotations

import random
import time
from types import ModuleType
from typing import Any

import pytest
from snapshot_restore_py import get_after_restore, get_before_snapshot

from currency_api import connexion_extensions
from currency_api.store import CurrencyStore
from tests.conftest import euro
from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2

CONTEXT = LambdaContext()


def _registered(registry: list[Any], hook: Any) -> list[Any]:
    """The registry's entries (function, args, kwargs) for this module's hook."""
    return [entry for entry in registry if entry[0] is hook]


def _run(registry: list[Any], hook: Any) -> None:
    """Call the hook as the runtime does: through the registry, with its arguments."""
    for function, args, kwargs in _registered(registry, hook):
        function(*args, **kwargs)


def test_importing_registers_one_hook_of_each_kind(lambda_module: ModuleType) -> None:
    assert len(_registered(get_before_snapshot(), lambda_module.before_snapshot)) == 1
    assert len(_registered(get_after_restore(), lambda_module.after_restore)) == 1


def test_without_snapstart_import_runs_no_hook_and_the_handler_works(
    lambda_module: ModuleType, handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    jwks = lambda_module.adapter.authenticator.jwks
    assert jwks.fetched_at is None  # nothing was primed at import
    store.create(euro(), "tester")
    result = handler(http_api_v2("GET", "/currencies/EUR", headers=admin), CONTEXT)
    assert result["statusCode"] == 200
    assert jwks.fetched_at is not None  # fetched lazily by the first request


def test_before_snapshot_fetches_keys_and_builds_the_stack_without_writing(
    lambda_module: ModuleType, handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    adapter = lambda_module.adapter
    _run(get_before_snapshot(), lambda_module.before_snapshot)

    assert adapter.authenticator.jwks.key_ids()
    assert adapter.app.middleware.middleware_stack is not None  # built by the primed request
    assert store.list(100).items == []  # priming read, never wrote
    store.create(euro(), "tester")
    result = handler(http_api_v2("GET", "/currencies/EUR", headers=admin), CONTEXT)
    assert result["statusCode"] == 200  # the pool closed before the snapshot reopens on demand


def test_after_restore_reseeds_random_and_refetches_stale_keys(
    lambda_module: ModuleType, handler: Handler, admin: dict[str, str], store: CurrencyStore
) -> None:
    jwks = lambda_module.adapter.authenticator.jwks
    _run(get_before_snapshot(), lambda_module.before_snapshot)
    snapshot_time = time.time() - 3600  # restored an hour after the snapshot
    jwks.fetched_at = snapshot_time
    random.seed(1234)
    sequence_in_snapshot = [random.random() for _ in range(3)]
    random.seed(1234)

    _run(get_after_restore(), lambda_module.after_restore)

    assert [random.random() for _ in range(3)] != sequence_in_snapshot
    assert jwks.fetched_at is not None
    assert jwks.fetched_at > snapshot_time
    store.create(euro(), "tester")
    result = handler(http_api_v2("GET", "/currencies/EUR", headers=admin), CONTEXT)
    assert result["statusCode"] == 200


def test_after_restore_keeps_keys_fetched_within_the_refetch_interval(
    lambda_module: ModuleType,
) -> None:
    jwks = lambda_module.adapter.authenticator.jwks
    _run(get_before_snapshot(), lambda_module.before_snapshot)
    fetched = jwks.fetched_at

    _run(get_after_restore(), lambda_module.after_restore)

    assert jwks.fetched_at == fetched


def test_priming_is_refused_like_any_forged_token(lambda_module: ModuleType) -> None:
    from currency_api.lambda_adapter import PRIMING_CODE, priming_event, unverifiable_token

    adapter = lambda_module.adapter
    adapter.authenticator.jwks.refresh()
    kid = adapter.authenticator.jwks.key_ids()[0]
    event = priming_event(f"/currencies/{PRIMING_CODE}", unverifiable_token(kid))
    result = adapter(event, CONTEXT)
    assert result["statusCode"] == 401
    assert 'error="invalid_token"' in result["headers"]["www-authenticate"]


def _traffic(handler: Handler, admin: dict[str, str]) -> list[int]:
    """One of every kind of request with a body or parameters, valid and invalid, the
    statuses answered."""
    merge = {**admin, "Content-Type": "application/merge-patch+json"}
    events = [
        http_api_v2("POST", "/currencies", headers=admin, body=euro(code="XPR")),
        http_api_v2("GET", "/currencies", headers=admin, query=[("limit", "5")]),
        http_api_v2("GET", "/currencies/XPR", headers=admin),
        http_api_v2("PATCH", "/currencies/XPR", headers=merge, body={"symbol": "\u20ac"}),
        http_api_v2("PUT", "/currencies/XPR", headers=admin, body=euro(code="XPR")),
        http_api_v2("PATCH", "/currencies/XPR", headers=merge, body={"name": "\u0007"}),
        http_api_v2("GET", "/currencies", headers=admin, query=[("limit", "x")]),
        http_api_v2("DELETE", "/currencies/XPR", headers=admin),
    ]
    return [handler(event, CONTEXT)["statusCode"] for event in events]


EXPECTED = [201, 200, 200, 200, 200, 400, 400, 204]


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The schemas whose fastjsonschema check is generated from now on."""
    calls: list[object] = []
    generate = connexion_extensions._fast_check

    def counting(schema: Any) -> Any:
        calls.append(schema)
        return generate(schema)

    monkeypatch.setattr(connexion_extensions, "_fast_check", counting)
    return calls


def test_before_snapshot_generates_every_check_the_first_requests_would(
    lambda_module: ModuleType, handler: Handler, admin: dict[str, str], generated: list[object]
) -> None:
    _run(get_before_snapshot(), lambda_module.before_snapshot)
    assert len(generated) >= 7  # every operation's parameters and bodies
    generated.clear()
    assert _traffic(handler, admin) == EXPECTED
    assert generated == []  # nothing left for a restored environment to generate


def test_without_priming_the_first_requests_generate_their_checks(
    lambda_module: ModuleType, handler: Handler, admin: dict[str, str], generated: list[object]
) -> None:
    assert _traffic(handler, admin) == EXPECTED
    assert generated  # the bodies' checks, at their first use
