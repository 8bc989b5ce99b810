"""External checks on the synthesized app: cfn-lint, cdk-nag's AWS Solutions pack, a dev stage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from infra.app import PREFIX
from infra.stack import CurrencyApiStack
from tests.infra.conftest import Synthesized, cdk_context

ACKNOWLEDGED_KEY = "aws:cdk:acknowledged-rules"


def test_cfn_lint_passes_on_the_synthesized_template(stack: Synthesized) -> None:
    template = stack.outdir / f"{stack.stack_name}.template.json"
    region = cdk_context()[PREFIX + "region"]
    matches = lint_file(template, ManualArgs(regions=[region]))
    assert [str(match) for match in matches] == []


def test_cdk_nag_reports_no_unacknowledged_findings(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    findings = [
        f"{plugin['pluginName']}: {violation['ruleName']} ({violation.get('severity')}) at "
        + ", ".join(
            item.get("constructPath", "?")
            for item in violation.get(
                "violatingConstructs", violation.get("violatingResources", [])
            )
        )
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
    ]
    assert findings == [], "\n".join(findings)
    assert synthesized.error is None


def test_each_cdk_nag_acknowledgement_gives_its_reason(synthesized: Synthesized) -> None:
    metadata: dict[str, list[dict[str, Any]]] = json.loads(
        (synthesized.outdir / f"{synthesized.stack_name}.metadata.json").read_text()
    )
    acknowledged = {
        (path, rule.removeprefix("Annotation::")): reason
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == ACKNOWLEDGED_KEY
        for rule, reason in entry["data"].items()
    }
    rules = {rule for _, rule in acknowledged}
    # Public routes (health, docs), Cognito's paid Plus plan, the pinned runtime, the
    # cursor key's rotation and X-Ray's resource-less actions: nothing else is waved through.
    assert rules == {
        "AwsSolutions-APIG4",
        "AwsSolutions-COG8",
        "AwsSolutions-L1",
        "AwsSolutions-SMG4",
        "AwsSolutions-IAM5[Resource::*]",
    }
    for (path, rule), reason in acknowledged.items():
        assert len(reason.split()) >= 6, f"{rule} on {path} needs a real reason: {reason!r}"


ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def dev_stage() -> Template:
    """A disposable stage: the ``retain`` knob off, CORS on for one origin."""
    app = App(context=cdk_context())
    stack = CurrencyApiStack(
        app,
        "CurrencyApi-dev",
        stage="dev",
        retain=False,
        cors_allow_origins=[ORIGIN],
        callback_urls=["http://localhost:8000/ui/oauth2-redirect.html"],
    )
    return Template.from_stack(stack)


def test_dev_stage_can_be_deleted_with_its_data(dev_stage: Template) -> None:
    template = dict(dev_stage.to_json())
    for resource_type in ("AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::Logs::LogGroup"):
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == resource_type:
                assert resource.get("DeletionPolicy", "Delete") == "Delete", logical_id
    dev_stage.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "DeletionProtectionEnabled": False,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_cors_origins_knob_configures_the_gateway_and_the_app(dev_stage: Template) -> None:
    dev_stage.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {
            "CorsConfiguration": Match.object_like(
                {
                    "AllowOrigins": [ORIGIN],
                    "AllowHeaders": Match.array_with(["Authorization", "If-Match"]),
                    "ExposeHeaders": Match.array_with(["ETag", "Location"]),
                }
            )
        },
    )
    dev_stage.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"CORS_ALLOW_ORIGINS": ORIGIN})}},
    )
    dev_stage.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {"CallbackURLs": Match.array_with(["http://localhost:8000/ui/oauth2-redirect.html"])},
    )
