"""Modules Connexion imports but our configuration never runs, loaded on first use instead.

Connexion 3.3's ``connexion/json_schema.py`` does ``import requests`` at module level, for
its ``URLHandler`` (fetching a remote ``$ref`` over HTTP); our spec has no remote reference,
so on a cold start the import is pure cost (requests, charset_normalizer, certifi: about
25 ms of CPU and 3 MiB here, bench/RESULTS.md). :func:`install` puts a finder in front of
``sys.meta_path`` that hands out those modules through the standard library's
:class:`importlib.util.LazyLoader`: ``import requests`` binds a module object at once, and the
module's code runs, complete and unchanged, the first time any attribute of it is read.

What keeps a module deferred, and what does not (Python 3.13, importlib docs, "Implementing
lazy imports"): only a plain ``import x`` binds without loading. ``from x import y``, a later
``import x`` anywhere (the import system reads ``x.__spec__`` of a module already in
``sys.modules``) or importing a submodule ``x.y`` all load it, correctly, just not lazily. So
only modules whose every import on our cold path is one plain ``import`` belong in
:data:`DEFERRED`; the Lambda asset test (tests/infra/test_lambda_asset.py) proves that the
package answers with them still unloaded, and tests/unit/test_deferred_imports.py that
touching one loads the real module.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Final

#: Top-level modules handed out lazily. Each is imported on our cold path by exactly one
#: plain ``import`` statement (``connexion/json_schema.py`` for requests) and used only by
#: code our configuration never calls.
DEFERRED: Final = frozenset({"requests"})


class DeferredFinder:
    """A meta path finder that wraps the loader of each module in ``names`` in a LazyLoader.

    The module itself is found exactly as without this finder (``PathFinder``, the same
    ``sys.path``); only the moment its code runs changes.
    """

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec of ``fullname`` with a lazy loader; None for any other module."""
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def install(names: frozenset[str] = DEFERRED) -> None:
    """Put a :class:`DeferredFinder` first on ``sys.meta_path`` (once per process).

    Modules already imported stay as they are; call this before ``import connexion``.
    """
    if not any(isinstance(finder, DeferredFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, DeferredFinder(names))


def is_deferred(name: str) -> bool:
    """Whether module ``name`` is in ``sys.modules`` with its code not run yet."""
    module = sys.modules.get(name)
    # type(), not isinstance() or attribute access: reading any attribute would load it.
    return module is not None and type(module).__name__ == "_LazyModule"
