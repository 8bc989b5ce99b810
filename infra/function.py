"""ApiFunction: the one Lambda function serving every route, published and aliased for SnapStart.

Timeout and memory (the defaults of the knobs):

- ``timeout`` 20 s. The slowest honest request is a write whose DynamoDB calls all time out:
  the store's client makes at most 3 attempts of 1 s connect + 3 s read, with backoff, under
  15 s (currency_api.store.CLIENT_CONFIG), plus a 2 s JWKS fetch when the app verifies tokens
  itself. 20 s covers that and still ends before API Gateway's 30 s integration timeout, so
  the function, not the gateway, reports the failure (as a 503 problem) and logs it.
- ``memory_size`` 1024 MB. Lambda gives CPU in proportion to memory (one full vCPU at
  1,769 MB). The work per request is CPU-bound Python (JSON Schema validation by Connexion,
  JSON encoding, RS256 verification when tokens are checked in the app), and the process
  needs about 100 MB, so memory is bought for CPU: 1024 MB gives about 0.58 vCPU, a
  cost-latency middle; raise it for lower latency under load.

SnapStart (Python 3.12+) snapshots the initialized execution environment when a version is
published and resumes from it, so the imports and app construction of a cold start happen
once per deployment. It applies only to published versions: the API invokes the ``live``
alias, which points at the current version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from aws_cdk import Annotations, CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.bundling import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON, LAMBDA_RUNTIME, LambdaAsset
from infra.data import STORE_ACTIONS
from infra.nag import acknowledge

#: The handler inside the asset (currency_api/lambda_function.py).
HANDLER: Final = "currency_api.lambda_function.lambda_handler"
ALIAS_NAME: Final = "live"


class ApiFunction(Construct):
    """The function, its role, log group, cursor secret, published version and alias.

    Args:
        asset: the bundled code (infra.bundling.lambda_asset).
        table: the table the function may read and write (and nothing else).
        user_pool_id, client_ids, admin_group: the Cognito settings of currency_api.settings.
        cors_allow_origins: origins allowed by CORS (the app's setting; the gateway's too).
        trust_gateway_claims: let the app use the claims the JWT authorizer verified instead
            of verifying the token again (saves a JWKS fetch per cold start).
        memory_size, timeout: see the module docstring.
        log_retention: how long the function's logs are kept.
        log_level: the app's and the runtime's log level.
        retain: keep the log group and the cursor secret when the stack is deleted.
        metrics_namespace: the namespace of the app's EMF metrics (METRICS_NAMESPACE).
        tracing: X-Ray active tracing (the role may then write trace segments).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        asset: LambdaAsset,
        table: dynamodb.ITable,
        user_pool_id: str,
        client_ids: Sequence[str],
        admin_group: str,
        cors_allow_origins: Sequence[str] = (),
        trust_gateway_claims: bool = False,
        memory_size: int = 1024,
        timeout: Duration | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        log_level: str = "INFO",
        retain: bool = True,
        metrics_namespace: str = "CurrencyApi",
        tracing: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=removal
        )
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSecret",
            description="HMAC key that makes the API's pagination cursors tamper-evident.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=removal,
        )
        acknowledge(
            self.cursor_secret,
            "AwsSolutions-SMG4",
            reason=(
                "The cursor key only signs pagination cursors, which live for one listing; "
                "rotating it would just invalidate cursors in flight. Rotate by hand (change "
                "the secret and deploy) if it ever leaks."
            ),
        )
        # A role of our own: only the log group and the table, no AWS managed policies.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The currency API function: its log group and its table, nothing else.",
        )
        self.log_group.grant_write(self.role)
        table.grant(self.role, *STORE_ACTIONS)

        self.function = lambda_.Function(
            self,
            "Function",
            description="Currency API (Connexion on Mangum), every route of the HTTP API.",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=HANDLER,
            code=asset.code,
            role=self.role,
            memory_size=memory_size,
            timeout=timeout or Duration.seconds(20),
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel(log_level.upper()),
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            environment=environment(
                table_name=table.table_name,
                user_pool_id=user_pool_id,
                client_ids=client_ids,
                admin_group=admin_group,
                cursor_secret=self.cursor_secret.secret_value.unsafe_unwrap(),
                cors_allow_origins=cors_allow_origins,
                trust_gateway_claims=trust_gateway_claims,
                log_level=log_level,
                metrics_namespace=metrics_namespace,
            ),
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            reason=(
                f"Pinned to Python {LAMBDA_PYTHON} on purpose: the asset's .pyc files and "
                "compiled wheels are built for that version, by an interpreter the build "
                "machines have. Moving on is one constant (infra.bundling.LAMBDA_PYTHON)."
            ),
        )
        if tracing:
            acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "X-Ray active tracing needs xray:PutTraceSegments and "
                    "xray:PutTelemetryRecords, which support no resource-level permissions "
                    "(Resource '*' is the only form, AWS X-Ray developer guide)."
                ),
            )
        # CDK makes the function DependsOn its role although Role: GetAtt already orders them;
        # cfn-lint's W3005 says so. Harmless, and not ours to change.
        cfn_function = self.function.node.default_child
        if isinstance(cfn_function, CfnResource):
            cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        Annotations.of(self.function).acknowledge_warning(
            "@aws-cdk/aws-lambda:snapStartRequirePublish",
            "The function is published: the alias below points at current_version.",
        )
        if not asset.compiled:
            Annotations.of(self.function).add_warning_v2(
                "currency-api:no-pyc",
                f"the asset has no .pyc files for Python {LAMBDA_PYTHON}: every cold start "
                "compiles the sources (see the bundling warning above)",
            )
        self.alias = lambda_.Alias(
            self,
            "Alias",
            alias_name=ALIAS_NAME,
            version=self.function.current_version,
            description="What the API invokes: the latest published version (SnapStart).",
        )


def environment(
    *,
    table_name: str,
    user_pool_id: str,
    client_ids: Sequence[str],
    admin_group: str,
    cursor_secret: str,
    cors_allow_origins: Sequence[str],
    trust_gateway_claims: bool,
    log_level: str,
    metrics_namespace: str = "CurrencyApi",
) -> Mapping[str, str]:
    """The variables currency_api.settings.Settings.from_env reads.

    AWS_REGION is set by Lambda itself. COGNITO_ISSUER and COGNITO_JWKS_URL are left to
    their defaults, derived from the region and the pool id.
    """
    return {
        "TABLE_NAME": table_name,
        "COGNITO_USER_POOL_ID": user_pool_id,
        "COGNITO_APP_CLIENT_IDS": ",".join(client_ids),
        "ADMIN_GROUP": admin_group,
        "TRUST_API_GATEWAY_CLAIMS": "true" if trust_gateway_claims else "false",
        "CURSOR_SECRET": cursor_secret,
        "CORS_ALLOW_ORIGINS": ",".join(cors_allow_origins),
        "VALIDATE_RESPONSES": "false",
        "LOG_LEVEL": log_level.upper(),
        # One EMF record per request on stdout (currency_api.metrics; docs/metrics.md).
        "METRICS": "emf",
        "METRICS_NAMESPACE": metrics_namespace,
    }
