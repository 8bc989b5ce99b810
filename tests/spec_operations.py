"""The operations of spec/openapi.yaml, read from the YAML so tests follow the spec."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from currency_api.app import SPEC_PATH

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    security: list[dict[str, list[str]]]
    definition: dict[str, Any]

    @property
    def controller(self) -> str:
        """The module of the handler (``x-openapi-router-controller``)."""
        controller: str = self.definition["x-openapi-router-controller"]
        return controller

    @property
    def handler(self) -> str:
        """The handler's dotted name, ``getCurrency`` -> ``handlers.currencies.get_currency``."""
        return f"{self.controller}.{re.sub(r'(?<!^)(?=[A-Z])', '_', self.operation_id).lower()}"

    @property
    def scope_sets(self) -> list[frozenset[str]]:
        """The scopes of each oauth2 alternative (a token needs all of one set)."""
        schemes = load_spec()["components"]["securitySchemes"]
        return [
            frozenset(
                s
                for name, listed in req.items()
                if schemes[name]["type"] == "oauth2"
                for s in listed
            )
            for req in self.security
            if any(schemes[name]["type"] == "oauth2" for name in req)
        ]

    def example_path(self) -> str:
        """The path with every parameter filled by a valid value."""
        return re.sub(r"\{[^}]+\}", "EUR", self.path)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def spec_copy(
    folder: Path,
    edit: Callable[[dict[str, Any]], None] | None = None,
    spec: dict[str, Any] | None = None,
) -> Path:
    """``folder/openapi.yaml``: the real spec (or a copy of ``spec``) changed by ``edit``, for
    the app and the tools that read a file. The repository's spec is never touched."""
    document = copy.deepcopy(spec) if spec is not None else load_spec()
    if edit is not None:
        edit(document)
    path = folder / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def operations() -> list[Operation]:
    spec = load_spec()
    found = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append(
                    Operation(
                        method,
                        path,
                        op["operationId"],
                        op.get("security", spec.get("security", [])),
                        op,
                    )
                )
    return found


def secured_operations() -> list[Operation]:
    return [op for op in operations() if op.security]
