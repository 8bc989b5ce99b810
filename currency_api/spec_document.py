"""The OpenAPI document as a dict, read fast: a JSON cache of the YAML, keyed by its bytes.

Needs only PyYAML and the standard library, so the Lambda bundling step (infra/bundling.py)
can write the cache into the asset without importing the app.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Final

import yaml

#: The contract. In the Lambda asset, spec/ sits beside the packages as it does in the repo.
SPEC_PATH: Final = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The OpenAPI document as a dict: from its JSON cache when that was made from these very
    bytes, else parsed with LibYAML when PyYAML has it (and the cache written if it can be).

    PyYAML's C loader reads our spec about ten times faster than the pure-Python one that
    Connexion uses for a file path (and skips Connexion's Jinja2 rendering, which the spec does
    not use); the JSON cache (:func:`spec_cache_path`, written by :func:`write_spec_cache` at
    bundle time and on first use where the folder is writable) is read a hundred times faster
    still (bench/RESULTS.md). The document only uses local ``#/...`` references, so no base
    URI is needed.
    """
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        cached = json.loads(spec_cache_path(path).read_bytes())
        if cached["sha256"] == digest:
            document: dict[str, Any] = cached["document"]
            return document
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache, or not this spec's: parse the YAML
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(raw, Loader=loader)  # noqa: S506 (safe)
    _write_cache(path, digest, document)
    return document


def spec_cache_path(path: Path = SPEC_PATH) -> Path:
    """Where the JSON cache of a spec lives: beside it, ``.openapi.yaml.json``."""
    return path.with_name(f".{path.name}.json")


def write_spec_cache(path: Path = SPEC_PATH) -> bool:
    """Write the JSON cache of ``path`` (the Lambda asset is built with it: its folder is
    read-only at run time). False if the document does not survive JSON unchanged (a YAML
    date or a non-string key, say) or the folder is not writable; then the YAML is parsed."""
    raw = path.read_bytes()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(raw, Loader=loader)  # noqa: S506 (safe)
    return _write_cache(path, hashlib.sha256(raw).hexdigest(), document)


def _write_cache(path: Path, digest: str, document: Any) -> bool:
    try:
        text = json.dumps({"sha256": digest, "document": document}, ensure_ascii=False)
    except (TypeError, ValueError):
        return False
    if json.loads(text)["document"] != document:
        return False
    target = spec_cache_path(path)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)  # atomic: readers see the old file or the new one
    except OSError:
        temporary.unlink(missing_ok=True)
        return False
    return True
