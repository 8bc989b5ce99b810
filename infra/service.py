"""ContainerService: the same app as a container on ECS Fargate behind an Application Load Balancer.

The stack's ``fargate`` knob (CDK context ``currency-api:fargate=true``) adds it beside the
Lambda function: the image is the repository's Dockerfile (``currency-api serve --aws``), the
table, user pool, app clients and cursor key are the Lambda's, and the spec-generated alarms
watch it too (its EMF metrics in a namespace of its own, plus the load balancer's 5xx and
unhealthy targets). ``cdk synth`` only stages the image's build context (a copy of what
.dockerignore lets through) and names it in the asset manifest; ``cdk deploy`` builds and
pushes the image, so deploying needs a Docker engine, synthesis does not.

Choices, with their reasons:

- Tasks in private subnets (no public IP); one NAT gateway for what they reach on the
  internet (Cognito's JWKS, ECR, CloudWatch Logs); a DynamoDB gateway endpoint (free) keeps
  table traffic off the NAT. VPC flow logs and the load balancer's access logs are on.
- Two tasks of 1 vCPU and 2 GiB on arm64 (Graviton, the Lambda's architecture), two uvicorn
  workers each (WEB_CONCURRENCY); the deployment circuit breaker rolls a failed deployment
  back.
- Graceful shutdown end to end: the target group drains a task for 30 s
  (``deregistration_delay``) while ECS gives the container 30 s between SIGTERM and SIGKILL
  (``stop_timeout``); uvicorn lets in-flight requests finish for up to 20 s
  (currency_api.server.GRACEFUL_SHUTDOWN_SECONDS).
- HTTP on port 80 unless a certificate is given (``certificate_arn``: then HTTPS on 443 and
  port 80 redirects). A public API should run with one; there is no domain to issue it here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.data import STORE_ACTIONS
from infra.function import environment
from infra.nag import acknowledge

#: The port `currency-api serve --aws` listens on in the image (Dockerfile: PORT).
CONTAINER_PORT: Final = 8000
#: Seconds between SIGTERM and SIGKILL, and of draining at the load balancer.
STOP_SECONDS: Final = 30


class ContainerService(Construct):
    """VPC, cluster, load-balanced Fargate service running the repository's Dockerfile.

    Args:
        repo_root: the Docker build context (the repository; .dockerignore trims it).
        table: the Lambda's table; the tasks get the store's actions on it.
        user_pool_id, client_ids, admin_group, cors_allow_origins: the app's settings, as
            the function has them.
        cursor_secret: the function's cursor key, given to the tasks as a secret, so a
            cursor from one works on the other.
        metrics_namespace: where the tasks' EMF metrics go.
        desired_count, cpu, memory_mib, workers: the service's size.
        certificate_arn: an ACM certificate for HTTPS on the load balancer.
        log_retention, retain: as for the function.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repo_root: Path,
        table: dynamodb.ITable,
        user_pool_id: str,
        client_ids: Sequence[str],
        admin_group: str,
        cursor_secret: secretsmanager.ISecret,
        cors_allow_origins: Sequence[str] = (),
        metrics_namespace: str,
        desired_count: int = 2,
        cpu: int = 1024,
        memory_mib: int = 2048,
        workers: int = 2,
        certificate_arn: str | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        retain: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(
                    name="tasks", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ),
            ],
        )
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=log_retention, removal_policy=removal)
        self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs)
        )
        cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        app_logs = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal)
        settings = {
            key: value
            for key, value in environment(
                table_name=table.table_name,
                user_pool_id=user_pool_id,
                client_ids=client_ids,
                admin_group=admin_group,
                cursor_secret="",
                cors_allow_origins=cors_allow_origins,
                trust_gateway_claims=False,
                log_level="INFO",
                metrics_namespace=metrics_namespace,
            ).items()
            if key not in {"CURSOR_SECRET", "TRUST_API_GATEWAY_CLAIMS"}
        }
        container_environment: Mapping[str, str] = {
            **settings,
            "AWS_REGION": Stack.of(self).region,
            "WEB_CONCURRENCY": str(workers),
        }
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
            if certificate_arn
            else None
        )
        self.service = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            cluster=cluster,
            desired_count=desired_count,
            cpu=cpu,
            memory_limit_mib=memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_image_options=ecs_patterns.ApplicationLoadBalancedTaskImageOptions(
                image=ecs.ContainerImage.from_asset(
                    str(repo_root),
                    file="Dockerfile",
                    platform=ecr_assets.Platform.LINUX_ARM64,
                ),
                container_port=CONTAINER_PORT,
                environment=dict(container_environment),
                secrets={"CURSOR_SECRET": ecs.Secret.from_secrets_manager(cursor_secret)},
                log_driver=ecs.LogDrivers.aws_logs(stream_prefix="api", log_group=app_logs),
            ),
            public_load_balancer=True,
            assign_public_ip=False,
            task_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            health_check_grace_period=Duration.seconds(60),
            certificate=certificate,
            protocol=(
                elbv2.ApplicationProtocol.HTTPS if certificate else elbv2.ApplicationProtocol.HTTP
            ),
            redirect_http=certificate is not None,
        )
        # ECS waits this long after SIGTERM before SIGKILL (uvicorn drains in 20 s).
        cfn_task = self.service.task_definition.node.default_child
        if isinstance(cfn_task, ecs.CfnTaskDefinition):
            cfn_task.add_property_override("ContainerDefinitions.0.StopTimeout", STOP_SECONDS)
        target_group = self.service.target_group
        target_group.configure_health_check(
            path="/health", healthy_http_codes="200", interval=Duration.seconds(15)
        )
        target_group.set_attribute("deregistration_delay.timeout_seconds", str(STOP_SECONDS))
        load_balancer = self.service.load_balancer
        load_balancer.set_attribute("routing.http.drop_invalid_header_fields.enabled", "true")
        self.access_logs = s3.Bucket(
            self,
            "LoadBalancerLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # ALB log delivery supports SSE-S3 only
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=removal,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        )
        load_balancer.log_access_logs(self.access_logs, prefix="alb")
        table.grant(self.service.task_definition.task_role, *STORE_ACTIONS)
        self._acknowledge()
        # CDK adds DependsOn where a Ref or GetAtt already orders the resources (the service
        # on its listener rule, the default-SG custom resource on its role); cfn-lint's W3005
        # says so. Harmless, and not ours to change (the function has the same note).
        provider = Stack.of(self).node.try_find_child(
            "Custom::VpcRestrictDefaultSGCustomResourceProvider"
        )
        for resource in (
            self.service.service.node.default_child,
            provider.node.try_find_child("Handler") if provider is not None else None,
        ):
            if isinstance(resource, CfnResource):
                resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

    def _acknowledge(self) -> None:
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            reason=(
                "This bucket is the load balancer's access-log destination; logging access "
                "to the access logs would only log the log delivery itself."
            ),
        )
        acknowledge(
            self.service.load_balancer,
            "AwsSolutions-EC23",
            reason=(
                "The load balancer serves a public API: its listener is open to any address "
                "on purpose; the tasks accept traffic only from the load balancer."
            ),
        )
        acknowledge(
            self.service.task_definition,
            "AwsSolutions-ECS2",
            reason=(
                "The environment holds only non-secret settings (table name, pool and client "
                "ids, namespace); the cursor key comes from Secrets Manager as an ECS secret."
            ),
        )
        acknowledge(
            self.service.task_definition,
            "AwsSolutions-IAM5[Resource::*]",
            reason=(
                "The execution role's ecr:GetAuthorizationToken takes no resource ARN "
                "(Resource '*' is its only form); CDK grants the image pull and logs on "
                "their own ARNs."
            ),
        )
