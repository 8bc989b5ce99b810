"""Lints OpenAPI documents with openapi-spec-validator and Redocly CLI (`make lint-spec`).

Usage: ``python tools/lint_spec.py [--format text|json] [SPEC ...]`` (default: spec/openapi.yaml).
Exit status: 0 when there is no error and no warning, 1 when there is any, 2 when a tool is missing
or broken. The ruleset is tools/spec/redocly.yaml; docs/changing-the-api.md explains it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openapi_spec_validator import OpenAPIV30SpecValidator
from openapi_spec_validator.readers import read_from_filename

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "spec" / "openapi.yaml"
TOOLS = ROOT / "tools" / "spec"
REDOCLY = TOOLS / "node_modules" / ".bin" / "redocly"
CONFIG = TOOLS / "redocly.yaml"
INSTALL_HINT = "run `make install-spec-tools` (npm ci in tools/spec)"
# Redocly phones home and prints update banners unless told not to.
QUIET_ENV = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


class ToolError(Exception):
    """A linter is missing or failed to run; the message says how to fix it."""


@dataclass(frozen=True)
class Finding:
    """One problem in one document; ``pointer`` is a JSON pointer such as ``#/paths/~1x/get``."""

    file: str
    line: int
    col: int
    severity: str  # "error" or "warning"
    rule: str
    pointer: str
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity} [{self.rule}] {self.message}"


def validate_structure(spec: Path) -> list[Finding]:
    """Checks ``spec`` against the OpenAPI 3.0 schema with openapi-spec-validator."""
    name = _display_path(spec)
    try:
        document, _ = read_from_filename(str(spec))
    except Exception as problem:  # any parse failure is a finding, not a crash
        return [Finding(name, 1, 1, "error", "parse", "#", str(problem).splitlines()[0])]
    findings = []
    for error in OpenAPIV30SpecValidator(document).iter_errors():
        pointer = "#/" + "/".join(
            str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path
        )
        findings.append(
            Finding(name, 1, 1, "error", "openapi-spec-validator", pointer, error.message)
        )
    return findings


def _json_objects(text: str) -> list[Mapping[str, Any]]:
    # Redocly prints one JSON report per document, one after another.
    decoder = json.JSONDecoder()
    objects: list[Mapping[str, Any]] = []
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return objects
        obj, index = decoder.raw_decode(text, index)
        objects.append(obj)


def start_redocly(specs: Sequence[Path]) -> subprocess.Popen[str]:
    """Starts Redocly CLI once over all ``specs``; :func:`redocly_findings` collects its report.

    Raises:
        ToolError: Redocly CLI or node is not installed.
    """
    if not REDOCLY.exists():
        raise ToolError(f"Redocly CLI is not installed at {REDOCLY}: {INSTALL_HINT}")
    if shutil.which("node") is None:
        raise ToolError("node is not on PATH: install Node.js 20.19 or later")
    command = [str(REDOCLY), "lint", "--config", str(CONFIG), "--format", "json"]
    return subprocess.Popen(  # noqa: S603 - fixed executable, paths from our caller
        [*command, *(str(spec.resolve()) for spec in specs)],
        cwd=ROOT,
        env={**os.environ, **QUIET_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def redocly_findings(process: subprocess.Popen[str]) -> tuple[list[Finding], int]:
    """Waits for Redocly CLI; returns its findings and how many problems it was told to ignore.

    Raises:
        ToolError: Redocly CLI failed without a report (a broken config, a crash).
    """
    stdout, stderr = process.communicate()
    try:
        reports = _json_objects(stdout)
    except json.JSONDecodeError:
        reports = []
    if not reports:
        raise ToolError(f"Redocly CLI produced no report (exit {process.returncode}):\n{stderr}")
    findings, ignored = [], 0
    for report in reports:
        ignored += int(report["totals"].get("ignored", 0))
        for problem in report["problems"]:
            location = problem["location"][0]
            findings.append(
                Finding(
                    file=_display_path(ROOT / location["source"]["ref"]),
                    line=int(location.get("start", {}).get("line", 1)),
                    col=int(location.get("start", {}).get("col", 1)),
                    severity="error" if problem["severity"] == "error" else "warning",
                    rule=problem["ruleId"],
                    pointer=location["pointer"],
                    message=problem["message"].strip(),
                )
            )
    return findings, ignored


def _display_path(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def lint(specs: Sequence[Path]) -> tuple[list[Finding], int]:
    """All findings for ``specs`` from both linters, and how many Redocly was told to ignore."""
    redocly = start_redocly(specs)  # node runs while Python validates the structure
    findings = [finding for spec in specs for finding in validate_structure(spec)]
    found, ignored = redocly_findings(redocly)
    return findings + found, ignored


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path, default=[DEFAULT_SPEC])
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    try:
        findings, ignored = lint(args.specs)
    except ToolError as error:
        print(f"lint-spec: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([asdict(finding) for finding in findings], indent=2))
    else:
        for finding in findings:
            print(finding.render())
        errors = sum(finding.severity == "error" for finding in findings)
        warnings = len(findings) - errors
        note = f", {ignored} accepted in {_display_path(TOOLS)}/.redocly.lint-ignore.yaml"
        print(
            f"lint-spec: {errors} errors, {warnings} warnings in {len(args.specs)} file(s)"
            f"{note if ignored else ''} (openapi-spec-validator + Redocly CLI)"
        )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
