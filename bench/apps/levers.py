"""Ours with the performance levers of issue 6 switched off, to measure what each one buys.

Only the benchmark does this: it builds the same adapter as bench/apps/ours.py while
currency_api's build-time choices are put back to Connexion's defaults, then restores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jinja2
import yaml
from connexion.validators import VALIDATOR_MAP

from bench.memory_store import EURO, MemoryStore
from currency_api import app as app_module
from currency_api import connexion_extensions, lambda_adapter
from currency_api.lambda_adapter import LambdaAdapter, build_adapter
from currency_api.settings import Settings
from currency_api.store import create_client

#: Lever name -> what switching it off means.
LEVERS = {
    "cloader": "spec parsed by Connexion (Jinja2 + pure-Python YAML) instead of LibYAML",
    "novalidate": "Connexion's schema check of the spec at every cold start",
    "compiled": "Connexion's per-request validators and signature inspection",
}


def _connexion_loader(path: Any = app_module.SPEC_PATH) -> Any:
    # What Connexion's Specification.from_file does with a path.
    return yaml.safe_load(jinja2.Template(path.read_text()).render())


@contextmanager
def levers_off(*names: str) -> Iterator[None]:
    """Within the block, create_app builds as if the named levers did not exist."""
    original_create_app = app_module.create_app

    def validating(*args: Any, **kwargs: Any) -> Any:
        return original_create_app(*args, **{**kwargs, "validate_spec": True})

    replaced: list[tuple[object, str, Any]] = []
    if "cloader" in names:
        replaced.append((app_module, "load_spec", _connexion_loader))
    if "novalidate" in names:
        replaced.append((lambda_adapter, "create_app", validating))
    if "compiled" in names:
        replaced.append((connexion_extensions, "validator_map", lambda: VALIDATOR_MAP))
        replaced.append((connexion_extensions, "security_map", dict))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in replaced]
    for owner, name, value in replaced:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def build(*names: str) -> tuple[MemoryStore, LambdaAdapter]:
    """The store and adapter of bench/apps/ours.py, built with the named levers off."""
    settings = Settings.from_env()
    client = create_client(settings.region)
    store = MemoryStore(client, settings.table_name, settings.cursor_secret, [EURO])
    with levers_off(*names):
        adapter = build_adapter(settings, on_lambda=False, store=store, dynamodb_client=client)
    return store, adapter
