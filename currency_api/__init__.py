"""Currency API: a spec-first serverless CRUD API for ISO 4217 currencies."""

import warnings

# `import connexion` imports starlette.testclient (connexion/apps/abstract.py, for its
# test_client()), which warns at every start that it will need httpx2 instead of httpx. The
# app never uses that client; only this one warning, from that one import, is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"Using `httpx` with `starlette.testclient` is deprecated",
    module=r"connexion\.apps\.abstract",
)

# Before any of our modules imports connexion: what it imports and our configuration never
# runs is loaded on first use (currency_api/deferred_imports.py).
from currency_api import deferred_imports  # noqa: E402  (after the filter, on purpose)

deferred_imports.install()
