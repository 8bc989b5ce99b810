"""TypeScript callers: types generated from the spec by openapi-typescript, checked by tsc.

tools/sdk/caller.ts is a small caller typed only by the generated types. It must compile against
the current spec; a deliberately wrong caller, and the same caller against a spec with a breaking
change, must not. The npm tools are the ones `make install` puts in tools/sdk/node_modules
(versions pinned by tools/sdk/package-lock.json); nothing is installed here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from currency_api.app import SPEC_PATH
from tests.spec_operations import spec_copy

ROOT = Path(__file__).resolve().parents[2]
SDK_TOOLS = ROOT / "tools" / "sdk"
BIN = SDK_TOOLS / "node_modules" / ".bin"
CALLER = SDK_TOOLS / "caller.ts"


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make install` (it runs `npm ci` in tools/sdk)")
    return str(path)


def generate_types(spec: Path, out: Path) -> Path:
    """openapi-typescript on ``spec``: the ``currency-api.d.ts`` a TypeScript caller imports."""
    types = out / "currency-api.d.ts"
    subprocess.run(  # noqa: S603 (our pinned tool, our paths)
        [_tool("openapi-typescript"), str(spec), "--output", str(types)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return types


def typecheck(program: Path, types: Path) -> subprocess.CompletedProcess[str]:
    """tsc --noEmit with tools/sdk/tsconfig.json's options, ``currency-api`` mapped to ``types``."""
    settings = json.loads((SDK_TOOLS / "tsconfig.json").read_text(encoding="utf-8"))
    options = {**settings["compilerOptions"], "paths": {"currency-api": [str(types)]}}
    config = program.parent / "tsconfig.json"
    config.write_text(json.dumps({"compilerOptions": options, "files": [program.name]}))
    return subprocess.run(  # noqa: S603 (our pinned tool, our paths)
        [_tool("tsc"), "--project", str(config), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _caller_in(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(CALLER, folder / CALLER.name))


def test_the_caller_compiles_against_types_generated_from_the_spec(tmp_path: Path) -> None:
    types = generate_types(SPEC_PATH, tmp_path)

    result = typecheck(_caller_in(tmp_path / "caller"), types)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_caller_that_breaks_the_contract_does_not_compile(tmp_path: Path) -> None:
    types = generate_types(SPEC_PATH, tmp_path)
    program = tmp_path / "wrong" / "wrong.ts"
    program.parent.mkdir()
    program.write_text(
        'import type { components, operations } from "currency-api";\n'
        'type NewCurrency = operations["createCurrency"]["requestBody"]["content"]'
        '["application/json"];\n'
        "// numericCode is a string of three digits, not a number.\n"
        'export const euro: NewCurrency = { code: "EUR", name: "Euro", numericCode: 978,'
        " minorUnit: 2 };\n"
        "// A Currency has no snake_case members.\n"
        'export const digits = (c: components["schemas"]["Currency"]) => c.minor_unit;\n',
        encoding="utf-8",
    )

    result = typecheck(program, types)

    assert result.returncode != 0
    assert re.search(r"wrong\.ts\(4,\d+\): error TS2322", result.stdout), result.stdout
    assert re.search(r"wrong\.ts\(6,\d+\): error TS2551", result.stdout), result.stdout


def test_a_spec_change_that_breaks_typescript_callers_fails_the_type_check(
    tmp_path: Path,
) -> None:
    """minorUnit no longer nullable: callers that create N.A. currencies (gold) stop compiling."""

    def minor_unit_not_nullable(spec: dict[str, Any]) -> None:
        del spec["components"]["schemas"]["MinorUnit"]["nullable"]

    types = generate_types(spec_copy(tmp_path, minor_unit_not_nullable), tmp_path)

    result = typecheck(_caller_in(tmp_path / "caller"), types)

    assert result.returncode != 0
    assert re.search(
        r"caller\.ts\(\d+,\d+\): error TS2322: Type 'null' is not assignable to type 'number'",
        result.stdout,
    ), result.stdout
