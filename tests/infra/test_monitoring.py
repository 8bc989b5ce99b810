"""Alarms, dashboard, alarm topic and tracing in the synthesized stack, generated from the spec."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from currency_api.metrics import UNROUTED
from infra.app import thresholds
from infra.data import STORE_ACTIONS
from infra.monitoring import GATEWAY_429, AlarmThresholds, ApiMonitoring
from infra.spec_routes import load_spec, routes_from_spec
from infra.stack import SPEC_PATH
from tests.infra.conftest import Synthesized, ref

NAMESPACE = "CurrencyApi/prod"
DEFAULTS = AlarmThresholds()


def spec_operations() -> list[str]:
    return [route.operation_id for route in routes_from_spec(load_spec(SPEC_PATH))]


def alarms(stack: Synthesized) -> dict[str, dict[str, Any]]:
    """Alarm name -> properties."""
    return {
        resource["Properties"]["AlarmName"]: resource["Properties"]
        for resource in stack.resources("AWS::CloudWatch::Alarm").values()
    }


def topic_id(stack: Synthesized) -> str:
    logical_id, _ = stack.only("AWS::SNS::Topic")
    return logical_id


@pytest.mark.parametrize("operation", spec_operations())
def test_every_spec_operation_has_a_p99_latency_and_a_5xx_alarm(
    stack: Synthesized, operation: str
) -> None:
    by_name = alarms(stack)
    latency = by_name[f"currency-api-prod-lambda-{operation}-latency-p99"]
    errors = by_name[f"currency-api-prod-lambda-{operation}-5xx"]
    dimensions = [{"Name": "operationId", "Value": operation}]
    assert (latency["Namespace"], latency["MetricName"]) == (NAMESPACE, "Latency")
    assert latency["Dimensions"] == dimensions
    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Threshold"] == DEFAULTS.latency_p99_ms
    assert (latency["EvaluationPeriods"], latency["DatapointsToAlarm"]) == (5, 3)
    assert (errors["Namespace"], errors["MetricName"]) == (NAMESPACE, "5xx")
    assert errors["Dimensions"] == dimensions
    assert errors["Statistic"] == "Sum"
    assert errors["Threshold"] == DEFAULTS.operation_5xx


def test_the_function_writes_its_metrics_where_the_alarms_read_them(stack: Synthesized) -> None:
    _, function = stack.only("AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["METRICS"] == "emf"
    assert variables["METRICS_NAMESPACE"] == NAMESPACE


def test_every_alarm_notifies_the_topic_on_alarm_and_on_recovery(stack: Synthesized) -> None:
    topic = ref(topic_id(stack))
    by_name = alarms(stack)
    assert len(by_name) == 2 * len(spec_operations()) + 7
    for name, alarm in by_name.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert "When an alarm fires" in alarm["AlarmDescription"], name


def test_function_errors_throttles_and_concurrency_are_alarmed(stack: Synthesized) -> None:
    function_id, _ = stack.only("AWS::Lambda::Function")
    by_name = alarms(stack)
    for name, metric, statistic, threshold in (
        ("function-errors", "Errors", "Sum", DEFAULTS.function_errors),
        ("function-throttles", "Throttles", "Sum", DEFAULTS.function_throttles),
        ("function-concurrency", "ConcurrentExecutions", "Maximum", DEFAULTS.concurrency),
    ):
        alarm = by_name[f"currency-api-prod-{name}"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": ref(function_id)}]
        assert alarm["Statistic"] == statistic
        assert alarm["Threshold"] == threshold


def test_gateway_5xx_is_alarmed_on_its_metric_and_429_on_its_access_log(
    stack: Synthesized,
) -> None:
    api_id, _ = stack.only("AWS::ApiGatewayV2::Api")
    by_name = alarms(stack)
    server = by_name["currency-api-prod-gateway-5xx"]
    assert (server["Namespace"], server["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert server["Dimensions"] == [{"Name": "ApiId", "Value": ref(api_id)}]
    throttled = by_name["currency-api-prod-gateway-429"]
    assert (throttled["Namespace"], throttled["MetricName"]) == (NAMESPACE, GATEWAY_429)
    _, stage = stack.only("AWS::ApiGatewayV2::Stage")
    access_logs = stage["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    _, metric_filter = stack.only("AWS::Logs::MetricFilter")
    assert metric_filter["Properties"]["LogGroupName"] == ref(access_logs)
    assert metric_filter["Properties"]["FilterPattern"] == '{ $.status = "429" }'
    (transformation,) = metric_filter["Properties"]["MetricTransformations"]
    assert transformation["MetricName"] == GATEWAY_429
    assert transformation["MetricNamespace"] == NAMESPACE


def test_dynamodb_throttles_and_system_errors_cover_every_store_call(stack: Synthesized) -> None:
    table_id, _ = stack.only("AWS::DynamoDB::Table")
    by_name = alarms(stack)
    for name, metric_name in (
        ("dynamodb-throttles", "ThrottledRequests"),
        ("dynamodb-system-errors", "SystemErrors"),
    ):
        alarm = by_name[f"currency-api-prod-{name}"]
        stats = {q["Id"]: q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q}
        watched = set()
        for stat in stats.values():
            dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
            assert dimensions["TableName"] == ref(table_id)
            assert stat["Metric"]["MetricName"] == metric_name
            watched.add(dimensions["Operation"])
        assert watched == {action.removeprefix("dynamodb:") for action in STORE_ACTIONS}
        (expression,) = [q["Expression"] for q in alarm["Metrics"] if "Expression" in q]
        # Each term filled with 0: DynamoDB publishes these only when they happen.
        assert expression == " + ".join(f"FILL({name}, 0)" for name in stats)


def test_one_dashboard_shows_every_operation_and_every_alarm(stack: Synthesized) -> None:
    _, dashboard = stack.only("AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "currency-api-prod"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for operation in (*spec_operations(), UNROUTED):
        assert f"{operation}: latency (ms)" in body
        assert f"{operation}: answers by status class" in body
    for alarm_id in stack.resources("AWS::CloudWatch::Alarm"):
        assert alarm_id in body  # the alarm status widget lists it


def test_alarm_topic_is_encrypted_with_a_rotated_key_and_https_only(stack: Synthesized) -> None:
    topic = topic_id(stack)
    _, resource = stack.only("AWS::SNS::Topic")
    key_id, key = stack.only("AWS::KMS::Key")
    assert resource["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        and "kms:GenerateDataKey*" in s["Action"]
        for s in statements
    )
    _, policy = stack.only("AWS::SNS::TopicPolicy")
    assert policy["Properties"]["Topics"] == [ref(topic)]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert not stack.resources("AWS::SNS::Subscription")  # no e-mail unless the knob says


def test_the_function_is_traced_actively_by_x_ray(stack: Synthesized) -> None:
    _, function = stack.only("AWS::Lambda::Function")
    assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}


# --- the construct alone: no function asset, no synthesis of the whole app ---------------


def monitoring_template(operations: list[str], **kwargs: Any) -> Template:
    stack = Stack(App(), "Monitoring")
    monitoring = ApiMonitoring(
        stack, "Monitoring", operations=operations, prefix="currency-api-test", **kwargs
    )
    monitoring.add_operations("CurrencyApi/test", label="Lambda")
    monitoring.finish()
    return Template.from_stack(stack)


def test_a_new_operation_in_the_spec_gets_alarms_with_no_infra_change() -> None:
    spec = copy.deepcopy(load_spec(SPEC_PATH))
    health = spec["paths"]["/health"]["get"]
    spec["paths"]["/health/deep"] = {"get": {**health, "operationId": "getDeepHealth"}}
    operations = [route.operation_id for route in routes_from_spec(spec)]
    assert "getDeepHealth" in operations

    template = monitoring_template(operations)
    for suffix, metric in (("latency-p99", "Latency"), ("5xx", "5xx")):
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": f"currency-api-test-lambda-getDeepHealth-{suffix}",
                "MetricName": metric,
                "Dimensions": [{"Name": "operationId", "Value": "getDeepHealth"}],
            },
        )


def test_threshold_knobs_change_the_alarms_and_the_email_knob_subscribes() -> None:
    template = monitoring_template(
        ["getCurrency"],
        thresholds=thresholds('{"latency_p99_ms": 250, "operation_5xx": 3}'),
        alarm_email="oncall@example.com",
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "Latency", "Threshold": 250, "ExtendedStatistic": "p99"},
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "5xx", "Threshold": 3}
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "oncall@example.com", "TopicArn": Match.any_value()},
    )


@pytest.mark.parametrize(
    "value", ['{"latency_p99": 5}', '{"latency_p99_ms": "fast"}', '{"operation_5xx": 0}', "[1]"]
)
def test_threshold_knob_refuses_unknown_names_and_non_positive_values(value: str) -> None:
    with pytest.raises(ValueError, match="alarmThresholds"):
        thresholds(value)
