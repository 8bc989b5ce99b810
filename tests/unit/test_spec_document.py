"""The spec's JSON cache is used only when it was made from the very bytes of the YAML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from currency_api.spec_document import SPEC_PATH, load_spec, spec_cache_path, write_spec_cache


def copy_of_spec(tmp_path: Path) -> Path:
    path = tmp_path / "openapi.yaml"
    shutil.copy(SPEC_PATH, path)
    return path


def test_cached_document_equals_the_parsed_yaml(tmp_path: Path) -> None:
    path = copy_of_spec(tmp_path)
    assert write_spec_cache(path)
    assert load_spec(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_cache_of_these_bytes_is_what_load_returns(tmp_path: Path) -> None:
    path = copy_of_spec(tmp_path)
    assert write_spec_cache(path)
    cache = spec_cache_path(path)
    entry = json.loads(cache.read_text(encoding="utf-8"))
    entry["document"]["info"]["title"] = "from the cache"
    cache.write_text(json.dumps(entry), encoding="utf-8")
    assert load_spec(path)["info"]["title"] == "from the cache"


def test_edited_yaml_is_parsed_again_whatever_the_cache_says(tmp_path: Path) -> None:
    path = copy_of_spec(tmp_path)
    assert write_spec_cache(path)
    edited = path.read_text(encoding="utf-8").replace("title: Currency API", "title: Edited", 1)
    path.write_text(edited, encoding="utf-8")
    assert load_spec(path)["info"]["title"] == "Edited"
    # ...and the cache now holds the edited document.
    assert json.loads(spec_cache_path(path).read_text())["document"]["info"]["title"] == "Edited"


def test_yaml_that_json_cannot_hold_is_never_cached(tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text("openapi: 3.0.3\ninfo: {title: t, version: 2026-01-01}\n", encoding="utf-8")
    assert not write_spec_cache(path)
    assert not spec_cache_path(path).exists()
    assert str(load_spec(path)["info"]["version"]) == "2026-01-01"


def test_unreadable_or_broken_cache_falls_back_to_the_yaml(tmp_path: Path) -> None:
    path = copy_of_spec(tmp_path)
    spec_cache_path(path).write_text("{not json", encoding="utf-8")
    assert load_spec(path)["openapi"] == "3.0.3"
