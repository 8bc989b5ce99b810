"""Synthesizes the CDK app once per session, with cdk.json's context, for the template tests."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii starts Node when aws_cdk is imported: silence its end-of-life banner for Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App
from aws_cdk.assertions import Template

from infra.app import PREFIX, build_app
from infra.stack import REPO_ROOT, CurrencyApiStack


def cdk_json() -> dict[str, Any]:
    """The repository's cdk.json."""
    document: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))
    return document


def cdk_context() -> dict[str, Any]:
    """cdk.json's context: the feature flags and knobs the CLI would pass."""
    context: dict[str, Any] = cdk_json()["context"]
    return context


@dataclass(frozen=True)
class Synthesized:
    """One synthesis of the app: where it went, the stack's template, or why it failed."""

    outdir: Path
    stack_name: str
    template: dict[str, Any]
    error: str | None

    @property
    def assertions(self) -> Template:
        """The template as an aws_cdk.assertions.Template."""
        return Template.from_json(self.template)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for every resource of ``resource_type``."""
        return {
            logical_id: resource
            for logical_id, resource in self.template.get("Resources", {}).items()
            if resource["Type"] == resource_type
        }

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        """The one resource of ``resource_type`` (fails if there are none or several)."""
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app synthesized once, as `cdk synth` would (cdk-nag included)."""
    context = cdk_context()
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(context, outdir=str(outdir))
    error: str | None = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag errors fail synthesis; the report says why
        error = str(exc)
    stack_name = f"CurrencyApi-{context.get(PREFIX + 'stage', 'prod')}"
    template_file = outdir / f"{stack_name}.template.json"
    template = json.loads(template_file.read_text()) if template_file.exists() else {}
    return Synthesized(outdir=outdir, stack_name=stack_name, template=template, error=error)


@pytest.fixture(scope="session")
def stack(synthesized: Synthesized) -> Synthesized:
    """The synthesis, failing the test if synthesis failed."""
    if synthesized.error is not None:
        pytest.fail(f"synthesis failed: {synthesized.error}")
    return synthesized


def ref(logical_id: str) -> Mapping[str, str]:
    """CloudFormation ``{"Ref": logical_id}``."""
    return {"Ref": logical_id}


@pytest.fixture(scope="session")
def authorizer_template() -> dict[str, Any]:
    """The stack's template with the opt-in gateway JWT authorizer
    (``currency-api:gatewayAuthorizer``), with cdk.json's context."""
    context = {**cdk_context(), PREFIX + "gatewayAuthorizer": True}
    stack = CurrencyApiStack(
        App(context=context), "CurrencyApi-authorizer", gateway_authorizer=True
    )
    template: dict[str, Any] = dict(Template.from_stack(stack).to_json())
    return template
