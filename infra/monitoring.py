"""ApiMonitoring: alarms, one dashboard and the alarm topic, generated from the spec's operations.

Every operation of spec/openapi.yaml gets a p99 latency alarm and a 5xx alarm on the EMF
metrics the app writes (currency_api.metrics: namespace per deployment, dimension
``operationId``), so an operation added to the spec is watched with no change here. Beside
them: the function's errors, throttles and concurrency; the gateway's 5xx and 429; the
table's throttled requests and system errors; and, with the Fargate knob, the load
balancer's. Every alarm notifies one SNS topic (optionally mailed). What each alarm means and
what to do: infra/README.md, "When an alarm fires".

Built on aws_cdk.aws_cloudwatch rather than cdk-monitoring-constructs (infra/README.md says
why). Alarm periods follow CloudWatch's advice for EMF metrics from Lambda, whose log flush
the function does not control: "M out of N" datapoints (CloudWatch user guide, "Setting
alarms on metrics created with the embedded metric format").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from currency_api.metrics import (
    CLIENT_ERRORS,
    COLD_START,
    LATENCY,
    OPERATION_DIMENSION,
    SERVER_ERRORS,
    STATUS_CLASS_DIMENSION,
    TOKEN_CACHE_HIT,
    UNROUTED,
)

#: The metric the gateway's access-log filter counts (HTTP APIs have no 429 metric).
GATEWAY_429: Final = "Gateway429"
MINUTE: Final = Duration.minutes(1)
FIVE_MINUTES: Final = Duration.minutes(5)


@dataclass(frozen=True, slots=True)
class AlarmThresholds:
    """Alarm thresholds: the stack's knobs; the reasons for the defaults are in infra/README.md.

    Latency is in milliseconds; counts are per five minutes unless said otherwise.
    """

    #: p99 of an operation's latency, breached in 3 of 5 one-minute periods.
    latency_p99_ms: float = 1000.0
    #: 5xx answers of one operation.
    operation_5xx: int = 1
    #: Lambda ``Errors`` (the app answers its own exceptions: these are crashes and timeouts).
    function_errors: int = 1
    #: Lambda ``Throttles``.
    function_throttles: int = 1
    #: Lambda ``ConcurrentExecutions`` maximum in one minute, 3 of 5 minutes.
    concurrency: int = 800
    #: API Gateway ``5xx`` (the function's own 5xx included).
    gateway_5xx: int = 5
    #: API Gateway 429 answers (stage throttling), from the access log.
    gateway_429: int = 10
    #: DynamoDB ``ThrottledRequests`` over the store's operations.
    dynamodb_throttles: int = 1
    #: DynamoDB ``SystemErrors`` over the store's operations.
    dynamodb_system_errors: int = 1
    #: Load balancer 5xx (its own and the targets'), with the Fargate knob.
    load_balancer_5xx: int = 5
    #: Unhealthy targets (Maximum), with the Fargate knob, 3 of 5 minutes.
    unhealthy_targets: int = 1


def dynamodb_operations(actions_granted: Sequence[str]) -> list[str]:
    """The table operations whose metrics to watch: the IAM actions the store is granted,
    ``dynamodb:GetItem`` -> ``GetItem`` (the metrics' ``Operation`` dimension), so a new store
    call is watched too."""
    return [action.removeprefix("dynamodb:") for action in actions_granted]


def _per_operation_sum(
    table: dynamodb.ITable, metric_name: str, operations: Sequence[str]
) -> cloudwatch.MathExpression:
    """Sum of a per-operation DynamoDB metric over ``operations``. DynamoDB publishes
    ``ThrottledRequests`` and ``SystemErrors`` only when they happen, so each is FILLed with 0:
    a plain ``a + b`` has no value where either is missing, and would never alarm."""
    metrics = {
        f"op{index}": table.metric(
            metric_name,
            dimensions_map={"TableName": table.table_name, "Operation": operation},
            statistic="Sum",
            period=FIVE_MINUTES,
        )
        for index, operation in enumerate(operations)
    }
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({name}, 0)" for name in metrics),
        using_metrics=metrics,
        label=f"{metric_name}, all store operations",
        period=FIVE_MINUTES,
    )


class AlarmTopic(Construct):
    """The SNS topic every alarm notifies: encrypted with its own KMS key (CloudWatch cannot
    publish to a topic under the AWS managed key, whose policy it cannot be granted), HTTPS
    only, with an optional e-mail subscription (confirmed by the recipient)."""

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the currency API's alarm notifications.",
            enable_key_rotation=True,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Currency API alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


class ApiMonitoring(Construct):
    """Alarms and one dashboard; sources are added with the ``add_*`` methods.

    Args:
        operations: the spec's operationIds, in the spec's order.
        prefix: the start of every alarm name (``currency-api-prod``).
        thresholds: the knobs.
        alarm_email: an address the topic mails (optional).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        operations: Sequence[str],
        prefix: str,
        thresholds: AlarmThresholds | None = None,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.operations = tuple(operations)
        self.prefix = prefix
        self.thresholds = thresholds or AlarmThresholds()
        self.topic = AlarmTopic(self, "Alarms", email=alarm_email).topic
        self.alarms: list[cloudwatch.Alarm] = []
        self._rows: list[list[cloudwatch.IWidget]] = []
        self.dashboard: cloudwatch.Dashboard | None = None

    def finish(self) -> cloudwatch.Dashboard:
        """The dashboard: every alarm's state on top, then the rows the sources added."""
        if self.dashboard is None:
            self.dashboard = cloudwatch.Dashboard(
                self, "Dashboard", dashboard_name=self.prefix, default_interval=Duration.hours(3)
            )
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(
                    title="Alarms", alarms=list(self.alarms), width=24, height=6
                )
            )
            for row in self._rows:
                self.dashboard.add_widgets(*row)
        return self.dashboard

    def _row(self, *widgets: cloudwatch.IWidget) -> None:
        self._rows.append(list(widgets))

    # -- building blocks ------------------------------------------------------------------

    def alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        periods: int = 1,
        datapoints: int = 1,
    ) -> cloudwatch.Alarm:
        """An alarm ``{prefix}-{name}`` at or above ``threshold``, notifying the topic."""
        alarm = cloudwatch.Alarm(
            self,
            f"Alarm {name}",
            alarm_name=f"{self.prefix}-{name}",
            alarm_description=f"{description} See infra/README.md, 'When an alarm fires'.",
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms.append(alarm)
        return alarm

    # -- sources ----------------------------------------------------------------------------

    def add_operations(self, namespace: str, *, label: str) -> None:
        """Per spec operation: p99 latency and 5xx alarms on the app's EMF metrics in
        ``namespace``, and a dashboard row (latency, answers by class, errors)."""
        t = self.thresholds
        self._row(
            cloudwatch.TextWidget(
                markdown=f"## {label}: operations of spec/openapi.yaml (namespace `{namespace}`)",
                width=24,
                height=1,
            ),
            cloudwatch.GraphWidget(
                title=f"{label}: cold starts and token cache hits",
                left=[_search(namespace, COLD_START, "Sum", [OPERATION_DIMENSION])],
                right=[_search(namespace, TOKEN_CACHE_HIT, "Average", [OPERATION_DIMENSION])],
                width=24,
                height=5,
            ),
        )
        for operation in (*self.operations, UNROUTED):
            dimensions = {OPERATION_DIMENSION: operation}

            def metric(name: str, statistic: str, period: Duration = MINUTE) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace=namespace,
                    metric_name=name,
                    dimensions_map=dimensions,  # noqa: B023  (used at once)
                    statistic=statistic,
                    period=period,
                )

            latency = metric(LATENCY, "p99")
            errors = metric(SERVER_ERRORS, "Sum", FIVE_MINUTES)
            if operation != UNROUTED:
                key = f"{label.lower()}-{operation}"
                self.alarm(
                    f"{key}-latency-p99",
                    latency,
                    t.latency_p99_ms,
                    f"{label}: p99 latency of {operation} at or above {t.latency_p99_ms:g} ms "
                    "in 3 of 5 minutes.",
                    periods=5,
                    datapoints=3,
                )
                self.alarm(
                    f"{key}-5xx",
                    errors,
                    t.operation_5xx,
                    f"{label}: {operation} answered 5xx at least {t.operation_5xx} times in "
                    "5 minutes.",
                )
            self._row(
                cloudwatch.GraphWidget(
                    title=f"{operation}: latency (ms)",
                    left=[metric(LATENCY, "p50"), latency, metric(LATENCY, "Maximum")],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(value=t.latency_p99_ms, label="alarm")
                    ],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{operation}: answers by status class",
                    left=[
                        _search(
                            namespace,
                            LATENCY,
                            "SampleCount",
                            [OPERATION_DIMENSION, STATUS_CLASS_DIMENSION],
                            f'{OPERATION_DIMENSION}="{operation}"',
                        )
                    ],
                    stacked=True,
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{operation}: 4xx and 5xx",
                    left=[metric(CLIENT_ERRORS, "Sum"), metric(SERVER_ERRORS, "Sum")],
                    width=8,
                ),
            )

    def add_function(self, function: lambda_.Function) -> None:
        """The function's errors, throttles and concurrency."""
        t = self.thresholds
        errors = function.metric_errors(period=FIVE_MINUTES, statistic="Sum")
        throttles = function.metric_throttles(period=FIVE_MINUTES, statistic="Sum")
        concurrency = function.metric("ConcurrentExecutions", period=MINUTE, statistic="Maximum")
        self.alarm(
            "function-errors",
            errors,
            t.function_errors,
            f"Lambda: at least {t.function_errors} function errors (crashes, timeouts, init "
            "failures) in 5 minutes.",
        )
        self.alarm(
            "function-throttles",
            throttles,
            t.function_throttles,
            f"Lambda: at least {t.function_throttles} throttled invocations in 5 minutes.",
        )
        self.alarm(
            "function-concurrency",
            concurrency,
            t.concurrency,
            f"Lambda: {t.concurrency} or more concurrent executions in 3 of 5 minutes.",
            periods=5,
            datapoints=3,
        )
        self._row(
            cloudwatch.GraphWidget(
                title="Lambda: invocations, errors, throttles",
                left=[
                    function.metric_invocations(period=MINUTE),
                    function.metric_errors(period=MINUTE),
                    function.metric_throttles(period=MINUTE),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda: duration (ms)",
                left=[
                    function.metric_duration(period=MINUTE, statistic="p50"),
                    function.metric_duration(period=MINUTE, statistic="p99"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda: concurrent executions",
                left=[concurrency],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=t.concurrency, label="alarm")
                ],
                width=8,
            ),
        )

    def add_http_api(
        self, api: apigwv2.HttpApi, access_logs: logs.ILogGroup, namespace: str
    ) -> None:
        """The gateway's 5xx (its metric) and 429 (a filter on its JSON access log: HTTP
        APIs publish only 4xx, 5xx, Count, Latency, IntegrationLatency and DataProcessed,
        API Gateway developer guide, "Monitor CloudWatch metrics for HTTP APIs")."""
        t = self.thresholds
        logs.MetricFilter(
            self,
            "Gateway429Filter",
            log_group=access_logs,
            filter_pattern=logs.FilterPattern.string_value("$.status", "=", "429"),
            metric_namespace=namespace,
            metric_name=GATEWAY_429,
            metric_value="1",
        )
        throttled = cloudwatch.Metric(
            namespace=namespace, metric_name=GATEWAY_429, statistic="Sum", period=FIVE_MINUTES
        )
        server_errors = api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        self.alarm(
            "gateway-5xx",
            server_errors,
            t.gateway_5xx,
            f"API Gateway: at least {t.gateway_5xx} answers 5xx in 5 minutes.",
        )
        self.alarm(
            "gateway-429",
            throttled,
            t.gateway_429,
            f"API Gateway: at least {t.gateway_429} requests throttled (429) in 5 minutes.",
        )
        self._row(
            cloudwatch.GraphWidget(
                title="API Gateway: requests, 4xx, 5xx, 429",
                left=[
                    api.metric_count(period=MINUTE),
                    api.metric_client_error(period=MINUTE),
                    api.metric_server_error(period=MINUTE),
                    throttled.with_(period=MINUTE),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API Gateway: latency and integration latency (ms, p99)",
                left=[
                    api.metric_latency(period=MINUTE, statistic="p99"),
                    api.metric_integration_latency(period=MINUTE, statistic="p99"),
                ],
                width=12,
            ),
        )

    def add_table(self, table: dynamodb.ITable, operations: Sequence[str]) -> None:
        """The table's throttled requests and system errors over the store's operations."""
        t = self.thresholds
        throttled = _per_operation_sum(table, "ThrottledRequests", operations)
        system_errors = _per_operation_sum(table, "SystemErrors", operations)
        self.alarm(
            "dynamodb-throttles",
            throttled,
            t.dynamodb_throttles,
            f"DynamoDB: at least {t.dynamodb_throttles} throttled requests in 5 minutes.",
        )
        self.alarm(
            "dynamodb-system-errors",
            system_errors,
            t.dynamodb_system_errors,
            f"DynamoDB: at least {t.dynamodb_system_errors} system errors (HTTP 500 from "
            "DynamoDB) in 5 minutes.",
        )
        self._row(
            # Two graphs: both expressions name their per-operation metrics alike.
            cloudwatch.GraphWidget(
                title="DynamoDB: throttled requests", left=[throttled], width=12
            ),
            cloudwatch.GraphWidget(title="DynamoDB: system errors", left=[system_errors], width=12),
        )

    def add_load_balancer(
        self,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
    ) -> None:
        """The Fargate service's load balancer: 5xx (its own and the targets') and
        unhealthy targets."""
        t = self.thresholds
        lb_metrics = load_balancer.metrics
        own = lb_metrics.http_code_elb(
            elbv2.HttpCodeElb.ELB_5XX_COUNT, period=FIVE_MINUTES, statistic="Sum"
        )
        targets = lb_metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=FIVE_MINUTES, statistic="Sum"
        )
        errors = cloudwatch.MathExpression(
            expression="FILL(own, 0) + FILL(targets, 0)",
            using_metrics={"own": own, "targets": targets},
            period=FIVE_MINUTES,
            label="load balancer and target 5xx",
        )
        unhealthy = target_group.metrics.unhealthy_host_count(period=MINUTE, statistic="Maximum")
        self.alarm(
            "service-load-balancer-5xx",
            errors,
            t.load_balancer_5xx,
            f"Load balancer: at least {t.load_balancer_5xx} answers 5xx in 5 minutes.",
        )
        self.alarm(
            "service-unhealthy-targets",
            unhealthy,
            t.unhealthy_targets,
            f"Load balancer: {t.unhealthy_targets} or more unhealthy tasks in 3 of 5 minutes.",
            periods=5,
            datapoints=3,
        )
        self._row(
            cloudwatch.GraphWidget(
                title="Load balancer: requests and 5xx",
                left=[lb_metrics.request_count(period=MINUTE), own, targets],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Load balancer: target response time (p99, s) and unhealthy tasks",
                left=[lb_metrics.target_response_time(period=MINUTE, statistic="p99")],
                right=[unhealthy],
                width=12,
            ),
        )


def _search(
    namespace: str,
    metric_name: str,
    statistic: str,
    dimensions: Sequence[str],
    condition: str = "",
) -> cloudwatch.MathExpression:
    """A dashboard SEARCH over the app's EMF metrics (CloudWatch user guide, "Using search
    expressions in graphs"): one line per dimension value seen."""
    schema = ",".join([namespace, *dimensions])
    query = f'{{{schema}}} MetricName="{metric_name}" {condition}'.strip()
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', 60)",
        using_metrics={},
        label=f"{metric_name} ({statistic})",
        period=MINUTE,
    )
