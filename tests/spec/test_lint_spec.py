"""`make lint-spec`: the spec is clean, and each kind of defect in a copy of it is reported."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"
LINT = ROOT / "tools" / "lint_spec.py"
REDOCLY = ROOT / "tools" / "spec" / "node_modules" / ".bin" / "redocly"

Spec = dict[str, Any]


@dataclass(frozen=True)
class Defect:
    """A change that breaks one rule, and the finding (rule at JSON pointer) it must cause."""

    name: str
    inject: Callable[[Spec], None]
    rule: str
    pointer: str


def _set(path: list[str], value: Any) -> Callable[[Spec], None]:
    def inject(spec: Spec) -> None:
        node = spec
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return inject


def _delete(path: list[str]) -> Callable[[Spec], None]:
    def inject(spec: Spec) -> None:
        node = spec
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return inject


def _problem_json_as_json(spec: Spec) -> None:
    content = spec["components"]["responses"]["NotFound"]["content"]
    content["application/json"] = content.pop("application/problem+json")


POST = ["paths", "/currencies", "post"]
HEALTH = ["paths", "/health", "get"]
COMPONENTS = ["components"]
NOT_FOUND_PROBLEM = [*COMPONENTS, "responses", "NotFound", "content", "application/problem+json"]
POST_POINTER = "#/paths/~1currencies/post"
INLINE_PROBLEM = {
    "description": "Conflict.",
    "content": {
        "application/problem+json": {
            "schema": {"type": "object", "properties": {"title": {"type": "string"}}}
        }
    },
}
PROBLEM_AS_JSON = {
    "description": "Conflict.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
PROBLEM_AS_TEXT = {
    "description": "Conflict.",
    "content": {"text/plain": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
HEALTH_AS_PROBLEM = {
    "description": "Down.",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Health"}}},
}
INLINE_BODY = {"schema": {"type": "object", "properties": {"code": {"type": "string"}}}}

DEFECTS = [
    Defect(
        "operation_without_operation_id",
        _delete([*POST, "operationId"]),
        "operation-operationId",
        f"{POST_POINTER}/operationId",
    ),
    Defect(
        "operation_without_summary",
        _delete([*POST, "summary"]),
        "operation-summary",
        f"{POST_POINTER}/summary",
    ),
    Defect(
        "operation_without_tag",
        _delete([*POST, "tags"]),
        "rule/operation-has-tag",
        f"{POST_POINTER}/tags",
    ),
    Defect(
        "operation_with_empty_tag_list",
        _set([*POST, "tags"], []),
        "rule/operation-has-tag",
        f"{POST_POINTER}/tags",
    ),
    Defect(
        "secured_operation_relying_on_global_security",
        _delete([*POST, "security"]),
        "rule/operation-has-security",
        f"{POST_POINTER}/security",
    ),
    Defect(
        "public_operation_without_empty_security",
        _delete([*HEALTH, "security"]),
        "rule/operation-has-security",
        "#/paths/~1health/get/security",
    ),
    Defect(
        "error_response_as_application_json",
        _set([*POST, "responses", "409"], PROBLEM_AS_JSON),
        "rule/gateway-error-uses-gateway-schema",
        f"{POST_POINTER}/responses/409/content/application~1json/schema",
    ),
    Defect(
        "error_response_as_text_plain",
        _set([*POST, "responses", "409"], PROBLEM_AS_TEXT),
        "rule/error-response-is-problem-json",
        f"{POST_POINTER}/responses/409/content",
    ),
    Defect(
        "shared_error_response_as_application_json",
        _problem_json_as_json,
        "rule/gateway-error-uses-gateway-schema",
        "#/components/responses/NotFound/content/application~1json/schema",
    ),
    Defect(
        "error_response_with_inline_problem_schema",
        _set([*POST, "responses", "409"], INLINE_PROBLEM),
        "rule/error-response-uses-problem-schema",
        f"{POST_POINTER}/responses/409/content/application~1problem+json/schema",
    ),
    Defect(
        "server_error_with_another_named_schema",
        _set([*POST, "responses", "503"], HEALTH_AS_PROBLEM),
        "rule/error-response-uses-problem-schema",
        f"{POST_POINTER}/responses/503/content/application~1problem+json/schema",
    ),
    Defect(
        "error_response_without_body",
        _set([*POST, "responses", "409"], {"description": "Conflict."}),
        "rule/error-response-has-content",
        f"{POST_POINTER}/responses/409/content",
    ),
    Defect(
        "inline_request_body_schema",
        _set([*POST, "requestBody", "content", "application/json"], INLINE_BODY),
        "rule/body-schema-is-named",
        f"{POST_POINTER}/requestBody/content/application~1json/schema",
    ),
    Defect(
        "inline_response_body_schema",
        _set([*HEALTH, "responses", "200", "content", "application/json"], INLINE_BODY),
        "rule/body-schema-is-named",
        "#/paths/~1health/get/responses/200/content/application~1json/schema",
    ),
    Defect(
        "schema_example_that_does_not_validate",
        _set([*COMPONENTS, "schemas", "CurrencyCreate", "example", "code"], "euro"),
        "no-invalid-schema-examples",
        "#/components/schemas/CurrencyCreate/example",
    ),
    Defect(
        "property_example_that_does_not_validate",
        _set([*COMPONENTS, "schemas", "CurrencyName", "example"], ""),
        "no-invalid-schema-examples",
        "#/components/schemas/CurrencyName/example",
    ),
    Defect(
        "response_example_that_does_not_validate",
        _set([*NOT_FOUND_PROBLEM, "example", "status"], "four hundred and four"),
        "no-invalid-media-type-examples",
        "#/components/responses/NotFound/content/application~1problem+json/example",
    ),
    Defect(
        "parameter_example_that_does_not_validate",
        _set([*COMPONENTS, "parameters", "Limit", "example"], 500),
        "no-invalid-parameter-examples",
        "#/components/parameters/Limit/example",
    ),
    Defect(
        "header_example_that_does_not_validate",
        _set([*COMPONENTS, "headers", "RetryAfter", "example"], "soon"),
        "currency/no-invalid-header-examples",
        "#/components/headers/RetryAfter/example",
    ),
    Defect(
        "unused_schema",
        _set([*COMPONENTS, "schemas", "Orphan"], {"type": "string", "description": "Unused."}),
        "no-unused-components",
        "#/components/schemas/Orphan",
    ),
    Defect(
        "unused_response",
        _set([*COMPONENTS, "responses", "Teapot"], {"description": "Unused."}),
        "no-unused-components",
        "#/components/responses/Teapot",
    ),
    Defect(
        "unused_parameter",
        _set(
            [*COMPONENTS, "parameters", "Sort"],
            {"name": "sort", "in": "query", "schema": {"type": "string"}},
        ),
        "no-unused-components",
        "#/components/parameters/Sort",
    ),
    Defect(
        "unused_header",
        _set([*COMPONENTS, "headers", "XUnused"], {"schema": {"type": "string"}}),
        "no-unused-components",
        "#/components/headers/XUnused",
    ),
    Defect(
        "unused_link",
        _set(
            [*COMPONENTS, "links", "Orphan"],
            {"operationId": "handlers.currencies.get_currency"},
        ),
        "currency/no-unused-components",
        "#/components/links/Orphan",
    ),
    Defect(
        "unused_security_scheme",
        _set(
            [*COMPONENTS, "securitySchemes", "apiKey"],
            {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        ),
        "no-unused-components",
        "#/components/securitySchemes/apiKey",
    ),
    Defect(
        "response_without_description",
        _delete([*POST, "responses", "201", "description"]),
        "openapi-spec-validator",
        f"{POST_POINTER}/responses/201",
    ),
]


def _run_lint(*args: str) -> subprocess.CompletedProcess[str]:
    if not REDOCLY.exists():
        pytest.fail(f"Redocly CLI is not installed at {REDOCLY}: run `make install-spec-tools`")
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(LINT), *args], capture_output=True, text=True, check=False
    )
    if result.returncode == 2:
        pytest.fail(f"lint_spec.py could not run its tools:\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[str, str]]]:
    """(rule, pointer) pairs per defect name, plus "baseline" for an untouched copy.

    All copies go through one run of the linters: Redocly's start-up dominates its time.
    """
    folder = tmp_path_factory.mktemp("defects")
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    files = {}
    for name, inject in [("baseline", None), *((d.name, d.inject) for d in DEFECTS)]:
        variant = copy.deepcopy(spec)
        if inject is not None:
            inject(variant)
        files[name] = folder / f"{name}.yaml"
        files[name].write_text(
            yaml.safe_dump(variant, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    result = _run_lint("--format", "json", *(str(path) for path in files.values()))
    by_file: dict[str, set[tuple[str, str]]] = {name: set() for name in files}
    for finding in json.loads(result.stdout):
        by_file[Path(finding["file"]).stem].add((finding["rule"], finding["pointer"]))
    return by_file


def test_repository_spec_has_no_errors_and_no_warnings() -> None:
    result = _run_lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint-spec: 0 errors, 0 warnings" in result.stdout


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda defect: defect.name)
def test_lint_reports_defect(defect: Defect, findings: dict[str, set[tuple[str, str]]]) -> None:
    expected = (defect.rule, defect.pointer)
    assert expected not in findings["baseline"], "the untouched copy must not have it already"
    assert any(
        rule == defect.rule and pointer.startswith(defect.pointer)
        for rule, pointer in findings[defect.name]
    ), f"{defect.rule} at {defect.pointer} not in {sorted(findings[defect.name])}"


def test_lint_fails_with_file_line_and_rule_for_a_defect(tmp_path: Path) -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    del spec["paths"]["/currencies"]["post"]["operationId"]
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")

    result = _run_lint(str(broken))

    assert result.returncode == 1
    assert f"{broken}:" in result.stdout
    assert "error [operation-operationId]" in result.stdout
