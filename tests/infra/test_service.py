"""The Fargate knob: one more synthesis of the app with ``currency-api:fargate`` on, checked.

``cdk synth`` does not build the image: it stages the Docker build context and names it in
the asset manifest (``cdk deploy`` builds it). So this proves the staged context and the
template, not the image.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from infra.app import PREFIX, build_app
from infra.data import STORE_ACTIONS
from infra.service import CONTAINER_PORT, STOP_SECONDS
from infra.spec_routes import load_spec, routes_from_spec
from infra.stack import SPEC_PATH
from tests.infra.conftest import Synthesized, cdk_context, ref
from tests.infra.test_stack_checks import ACKNOWLEDGED_KEY


@pytest.fixture(scope="module")
def fargate(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = {**cdk_context(), PREFIX + "fargate": True}
    outdir = tmp_path_factory.mktemp("cdk.out.fargate")
    app = build_app(context, outdir=str(outdir))
    error: str | None = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = str(exc)
    name = f"CurrencyApi-{context.get(PREFIX + 'stage', 'prod')}"
    template_file = outdir / f"{name}.template.json"
    template = json.loads(template_file.read_text()) if template_file.exists() else {}
    return Synthesized(outdir=outdir, stack_name=name, template=template, error=error)


def container(stack: Synthesized) -> dict[str, Any]:
    _, task = stack.only("AWS::ECS::TaskDefinition")
    (definition,) = task["Properties"]["ContainerDefinitions"]
    result: dict[str, Any] = definition
    return result


def test_fargate_stack_passes_cdk_nag_with_reasons_and_cfn_lint(fargate: Synthesized) -> None:
    report = json.loads((fargate.outdir / "validation-report.json").read_text())
    findings = [
        f"{violation['ruleName']} at "
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
    assert fargate.error is None
    metadata = json.loads((fargate.outdir / f"{fargate.stack_name}.metadata.json").read_text())
    for entries in metadata.values():
        for entry in entries:
            if entry["type"] == ACKNOWLEDGED_KEY:
                for rule, reason in entry["data"].items():
                    assert len(reason.split()) >= 6, rule
    region = cdk_context()[PREFIX + "region"]
    template = fargate.outdir / f"{fargate.stack_name}.template.json"
    assert [str(m) for m in lint_file(template, ManualArgs(regions=[region]))] == []


def test_the_image_is_the_dockerfile_staged_without_the_workspace(fargate: Synthesized) -> None:
    manifest = json.loads((fargate.outdir / f"{fargate.stack_name}.assets.json").read_text())
    (image,) = manifest["dockerImages"].values()
    assert image["source"].get("dockerFile", "Dockerfile") == "Dockerfile"
    assert image["source"]["platform"] == "linux/arm64"
    staged = fargate.outdir / image["source"]["directory"]
    top = {path.name for path in staged.iterdir()}
    assert {"Dockerfile", "pyproject.toml", "uv.lock", "currency_api", "spec"} <= top
    for absent in (".venv", "node_modules", "build", "cdk.out", "tests", ".git"):
        assert absent not in top, absent
    assert not list(Path(staged).rglob("__pycache__"))
    definition = container(fargate)
    assert "Command" not in definition  # the image's own CMD: currency-api serve --aws
    assert "EntryPoint" not in definition
    assert definition["PortMappings"][0]["ContainerPort"] == CONTAINER_PORT
    assert definition["StopTimeout"] == STOP_SECONDS


def test_the_service_uses_the_lambdas_table_pool_and_cursor_key(fargate: Synthesized) -> None:
    (function,) = [
        resource
        for logical_id, resource in fargate.resources("AWS::Lambda::Function").items()
        if logical_id.startswith("ServiceFunction")
    ]
    lambda_env = function["Properties"]["Environment"]["Variables"]
    definition = container(fargate)
    env = {item["Name"]: item["Value"] for item in definition["Environment"]}
    for name in ("TABLE_NAME", "COGNITO_USER_POOL_ID", "COGNITO_APP_CLIENT_IDS", "ADMIN_GROUP"):
        assert env[name] == lambda_env[name], name
    assert env["METRICS"] == "emf"
    assert env["METRICS_NAMESPACE"] == lambda_env["METRICS_NAMESPACE"] + "/service"
    (secret,) = definition["Secrets"]
    (secret_id,) = fargate.resources("AWS::SecretsManager::Secret")
    assert secret["Name"] == "CURSOR_SECRET"
    assert secret["ValueFrom"] == ref(secret_id)
    table_id, _ = fargate.only("AWS::DynamoDB::Table")
    granted = [
        statement
        for policy in fargate.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Resource") == {"Fn::GetAtt": [table_id, "Arn"]}
    ]
    assert len(granted) == 2  # the function's role and the task role
    for statement in granted:
        assert sorted(statement["Action"]) == sorted(STORE_ACTIONS)


def test_the_load_balancer_checks_health_drains_and_logs(fargate: Synthesized) -> None:
    _, group = fargate.only("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["Properties"]["HealthCheckPath"] == "/health"
    attributes = {a["Key"]: a["Value"] for a in group["Properties"]["TargetGroupAttributes"]}
    assert attributes["deregistration_delay.timeout_seconds"] == str(STOP_SECONDS)
    _, balancer = fargate.only("AWS::ElasticLoadBalancingV2::LoadBalancer")
    lb_attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert lb_attributes["access_logs.s3.enabled"] == "true"
    assert lb_attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    _, service = fargate.only("AWS::ECS::Service")
    network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    circuit = service["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert circuit == {"Enable": True, "Rollback": True}


def test_the_spec_generated_alarms_watch_the_service_too(fargate: Synthesized) -> None:
    names = {
        resource["Properties"]["AlarmName"]
        for resource in fargate.resources("AWS::CloudWatch::Alarm").values()
    }
    for route in routes_from_spec(load_spec(SPEC_PATH)):
        for source in ("lambda", "service"):
            assert f"currency-api-prod-{source}-{route.operation_id}-latency-p99" in names
            assert f"currency-api-prod-{source}-{route.operation_id}-5xx" in names
    assert "currency-api-prod-service-load-balancer-5xx" in names
    assert "currency-api-prod-service-unhealthy-targets" in names
    (dashboard,) = fargate.resources("AWS::CloudWatch::Dashboard").values()
    assert "Load balancer: requests and 5xx" in json.dumps(dashboard["Properties"])
