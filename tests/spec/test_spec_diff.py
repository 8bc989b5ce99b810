"""`make spec-diff`: breaking changes fail unless info.version has a new major number."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"
DIFF = ROOT / "tools" / "spec_diff.py"
LIBRARY = ROOT / "tools" / "spec" / "node_modules" / "api-smart-diff"

Spec = dict[str, Any]


def _spec() -> Spec:
    spec: Spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return spec


def _write(path: Path, spec: Spec) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if not LIBRARY.exists():
        pytest.fail(f"api-smart-diff is not installed at {LIBRARY}: run `make install-spec-tools`")
    return subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(DIFF), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def _diff(
    tmp_path: Path, change: Callable[[Spec], None], base: Spec | None = None
) -> tuple[int, dict[str, Any]]:
    """Exit status and JSON report for ``base`` (default: our spec) against a changed copy."""
    before = base if base is not None else _spec()
    after = copy.deepcopy(before)
    change(after)
    result = _run(
        "--base", str(_write(tmp_path / "base.yaml", before)),
        "--spec", str(_write(tmp_path / "head.yaml", after)),
        "--format", "json",
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def _schemas(spec: Spec) -> Spec:
    schemas: Spec = spec["components"]["schemas"]
    return schemas


def _breaking_at(report: dict[str, Any], where: str, fragment: str) -> bool:
    return any(c["where"] == where and fragment in c["at"] for c in report["breaking"])


def test_unchanged_spec_has_no_changes(tmp_path: Path) -> None:
    status, report = _diff(tmp_path, lambda spec: None)
    assert status == 0
    assert report["breaking"] == report["non_breaking"] == report["other"] == []


def test_removed_response_field_is_breaking(tmp_path: Path) -> None:
    def remove_name(spec: Spec) -> None:
        currency = _schemas(spec)["Currency"]
        del currency["properties"]["name"]
        currency["required"].remove("name")

    status, report = _diff(tmp_path, remove_name)

    assert status == 1
    assert _breaking_at(report, "GET /currencies/{code}", "responses/200/")
    assert "bump info.version to 2.0.0" in report["message"]


def test_removed_request_field_is_breaking_when_unknown_members_are_rejected(
    tmp_path: Path,
) -> None:
    status, report = _diff(
        tmp_path, lambda spec: _schemas(spec)["CurrencyCreate"]["properties"].pop("symbol")
    )

    assert status == 1
    assert _breaking_at(report, "POST /currencies", "requestBody/")


def test_new_required_request_field_is_breaking(tmp_path: Path) -> None:
    def require_country(spec: Spec) -> None:
        create = _schemas(spec)["CurrencyCreate"]
        create["properties"]["country"] = {"type": "string", "minLength": 2, "maxLength": 2}
        create["required"].append("country")

    status, report = _diff(tmp_path, require_country)

    assert status == 1
    assert _breaking_at(report, "POST /currencies", "requestBody/")


def test_narrowed_request_enum_is_breaking(tmp_path: Path) -> None:
    base = _spec()
    _schemas(base)["CurrencyCreate"]["properties"]["kind"] = {
        "type": "string",
        "enum": ["fiat", "fund", "metal"],
    }

    def drop_metal(spec: Spec) -> None:
        _schemas(spec)["CurrencyCreate"]["properties"]["kind"]["enum"].remove("metal")

    status, report = _diff(tmp_path, drop_metal, base=base)

    assert status == 1
    assert _breaking_at(report, "POST /currencies", "properties/kind/enum")


def test_narrowed_pattern_is_breaking(tmp_path: Path) -> None:
    status, report = _diff(
        tmp_path, lambda spec: _schemas(spec)["CurrencyCode"].update(pattern="^X[A-Z]{2}$")
    )

    assert status == 1
    assert _breaking_at(report, "POST /currencies", "properties/code/pattern")
    assert _breaking_at(report, "GET /currencies/{code}", "schema/pattern")


def test_new_optional_request_field_is_not_breaking(tmp_path: Path) -> None:
    status, report = _diff(
        tmp_path,
        lambda spec: _schemas(spec)["CurrencyCreate"]["properties"].update(
            country={"type": "string"}
        ),
    )

    assert status == 0
    assert report["breaking"] == []
    assert any(c["where"] == "POST /currencies" for c in report["non_breaking"])


def test_new_optional_response_field_is_not_breaking(tmp_path: Path) -> None:
    status, report = _diff(
        tmp_path,
        lambda spec: _schemas(spec)["Currency"]["properties"].update(country={"type": "string"}),
    )

    assert status == 0
    assert report["breaking"] == []
    assert any(c["where"] == "GET /currencies/{code}" for c in report["non_breaking"])


def test_breaking_change_passes_with_a_new_major_version(tmp_path: Path) -> None:
    def break_and_bump(spec: Spec) -> None:
        _schemas(spec)["CurrencyCreate"]["required"].append("symbol")
        spec["info"]["version"] = "2.0.0"

    status, report = _diff(tmp_path, break_and_bump)

    assert status == 0
    assert report["ok"]
    assert report["breaking"]


def test_breaking_change_fails_with_a_minor_version_bump_and_says_why(tmp_path: Path) -> None:
    before = _spec()
    after = copy.deepcopy(before)
    _schemas(after)["CurrencyCreate"]["required"].append("symbol")
    after["info"]["version"] = "1.1.0"

    result = _run(
        "--base", str(_write(tmp_path / "base.yaml", before)),
        "--spec", str(_write(tmp_path / "head.yaml", after)),
    )  # fmt: skip

    assert result.returncode == 1
    assert "Breaking changes: " in result.stdout
    assert "FAIL: " in result.stdout
    assert "1.0.0 -> 1.1.0 keeps major version 1" in result.stdout


def test_base_can_be_a_git_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "spec").mkdir(parents=True)
    spec = _spec()
    spec_file = _write(repo / "spec" / "openapi.yaml", spec)
    git = ["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    for args in (["init", "--quiet"], ["add", "."], ["commit", "--quiet", "-m", "v1"]):
        subprocess.run([*git, *args], check=True, capture_output=True)  # noqa: S603
    _schemas(spec)["Currency"]["required"].remove("numericCode")
    _write(spec_file, spec)

    result = _run("--base", "HEAD", "--spec", str(spec_file), "--format", "json", cwd=repo)

    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["breaking"]


def test_base_that_is_neither_file_nor_ref_is_a_usage_error() -> None:
    result = _run("--base", "no-such-branch-or-file")
    assert result.returncode == 2
    assert "neither a file nor a git ref" in result.stderr
