"""CurrencyApiStack: table, user pool, function and HTTP API, wired together, with outputs.

What is checked where (see infra/README.md):

- the app, on every request to a secured operation: the token (signature, ``iss``, expiry,
  ``token_use`` = access, ``client_id`` one of ours), then the operation's scope from the
  spec, where a user's admin-group membership grants the write scope and any user may read.
- only with ``gateway_authorizer`` (opt-in): the gateway's JWT authorizer first, on every
  route the spec secures: a bearer JWT signed by the user pool, unexpired, issued to one of
  our app clients. It checks no scope and no group; with ``trust_gateway_claims`` the app then
  uses its verified claims instead of verifying the signature again.

Every answer the gateway can give itself (throttling, its payload limit, a failed or timed-out
function, the authorizer's 401 when on) is declared in the spec; tests/infra/
test_gateway_answers.py holds the synthesized template to that.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

import currency_api
from currency_api.auth import READ_SCOPE
from currency_api.settings import Settings
from infra.bundling import LambdaAsset, lambda_asset
from infra.data import STORE_ACTIONS, CurrencyTable
from infra.function import ApiFunction
from infra.http_api import SpecHttpApi, gateway_routes
from infra.identity import CurrencyUserPool
from infra.monitoring import AlarmThresholds, ApiMonitoring, dynamodb_operations
from infra.service import ContainerService
from infra.spec_routes import load_spec, resource_server, routes_from_spec

#: The repository root: where currency_api/, handlers/ and spec/ are.
REPO_ROOT: Final = Path(currency_api.__file__).resolve().parent.parent
#: The contract the routes are generated from (the app reads the same file).
SPEC_PATH: Final = REPO_ROOT / "spec" / "openapi.yaml"


def _settings_default(name: str) -> str:
    """The default of a Settings field, so the stack and the app agree without a copy."""
    default = next(f.default for f in dataclasses.fields(Settings) if f.name == name)
    if not isinstance(default, str):
        raise TypeError(f"Settings.{name} has no string default")
    return default


#: The app's default admin group (Settings.admin_group).
DEFAULT_ADMIN_GROUP: Final = _settings_default("admin_group")


class CurrencyApiStack(Stack):
    """The whole currency API.

    Knobs (keyword arguments; infra/app.py reads them from CDK context):
        stage: a name for this deployment (``prod``, ``dev``...), used in the domain prefix.
        retain: production data settings (deletion protection, RETAIN); False for a
            disposable stage.
        cors_allow_origins: browser origins allowed by CORS; none turns CORS off.
        callback_urls, logout_urls: extra redirect URLs of the web client; Swagger UI's
            ``{api url}ui/oauth2-redirect.html`` is always allowed.
        domain_prefix: the Cognito hosted domain prefix (default
            ``currency-api-{stage}-{account}``).
        memory_size, timeout: the function's (see infra/function.py).
        throttle_rate, throttle_burst: the API stage's limits (requests per second).
        log_retention: retention of the function's and the access logs.
        gateway_authorizer: the gateway's JWT authorizer on the secured routes (opt-in: the
            app verifies every token anyway; see infra/README.md for what each mode costs).
        trust_gateway_claims: the app trusts the JWT authorizer's verified claims (needs
            ``gateway_authorizer``).
        plus_plan: Cognito Plus feature plan with threat protection.
        admin_group: the Cognito group whose users may write.
        spec_path: the OpenAPI document to generate routes from.
        asset: prebuilt function code (tests); default: built from the repository.
        alarm_thresholds: the alarms' thresholds (infra/monitoring.py, defaults and
            reasons in infra/README.md).
        alarm_email: an address the alarm topic mails (the recipient confirms it).
        tracing: X-Ray active tracing on the function.
        fargate: also run the app as a container on ECS Fargate behind a load balancer
            (infra/service.py), on the same table and user pool, watched by the same
            spec-generated alarms.
        certificate_arn: an ACM certificate for the load balancer's HTTPS listener.

    Raises:
        infra.spec_routes.UnexpressibleSpecError: the spec asks for what the gateway cannot
            express; raised before anything is built, so synthesis fails fast.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str = "prod",
        retain: bool = True,
        cors_allow_origins: Sequence[str] = (),
        callback_urls: Sequence[str] = (),
        logout_urls: Sequence[str] = (),
        domain_prefix: str | None = None,
        memory_size: int = 1024,
        timeout: Duration | None = None,
        throttle_rate: int = 100,
        throttle_burst: int = 200,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        gateway_authorizer: bool = False,
        trust_gateway_claims: bool = False,
        plus_plan: bool = False,
        admin_group: str = DEFAULT_ADMIN_GROUP,
        spec_path: Path = SPEC_PATH,
        asset: LambdaAsset | None = None,
        alarm_thresholds: AlarmThresholds | None = None,
        alarm_email: str | None = None,
        tracing: bool = True,
        fargate: bool = False,
        certificate_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if trust_gateway_claims and not gateway_authorizer:
            raise ValueError(
                "trust_gateway_claims needs gateway_authorizer: without the JWT authorizer no "
                "gateway verifies the claims the app would trust"
            )
        spec = load_spec(spec_path)
        routes = routes_from_spec(spec)
        server_id, scopes = resource_server(spec)
        read_scope = READ_SCOPE.rpartition("/")[2]

        api_routes = gateway_routes(routes)
        function_asset = asset or lambda_asset(REPO_ROOT)
        #: Where the function's EMF metrics go (alarms and dashboard read the same name).
        self.metrics_namespace = f"CurrencyApi/{stage}"

        data = CurrencyTable(self, "Data", retain=retain)
        http_api = SpecHttpApi(
            self,
            "Http",
            api_name=f"currency-api-{stage}",
            cors_allow_origins=cors_allow_origins,
            throttle_rate=throttle_rate,
            throttle_burst=throttle_burst,
            log_retention=log_retention,
            retain=retain,
        )
        auth = CurrencyUserPool(
            self,
            "Identity",
            resource_server_id=server_id,
            scopes=scopes,
            read_scope=read_scope,
            admin_group=admin_group,
            domain_prefix=domain_prefix or f"currency-api-{stage}-{Aws.ACCOUNT_ID}",
            callback_urls=[f"{http_api.url}ui/oauth2-redirect.html", *callback_urls],
            logout_urls=[f"{http_api.url}ui/", *logout_urls],
            retain=retain,
            plus_plan=plus_plan,
        )
        function = ApiFunction(
            self,
            "Service",
            asset=function_asset,
            table=data.table,
            user_pool_id=auth.user_pool.user_pool_id,
            client_ids=auth.client_ids,
            admin_group=admin_group,
            cors_allow_origins=cors_allow_origins,
            trust_gateway_claims=trust_gateway_claims,
            memory_size=memory_size,
            timeout=timeout,
            log_retention=log_retention,
            retain=retain,
            metrics_namespace=self.metrics_namespace,
            tracing=tracing,
        )
        http_api.add_routes(
            api_routes,
            handler=function.alias,
            issuer=auth.issuer,
            audience=auth.client_ids,
            gateway_authorizer=gateway_authorizer,
        )
        self.table = data.table
        self.auth = auth
        self.function = function
        self.http_api = http_api

        self.monitoring = ApiMonitoring(
            self,
            "Monitoring",
            operations=[route.operation_id for route in routes],
            prefix=f"currency-api-{stage}",
            thresholds=alarm_thresholds,
            alarm_email=alarm_email,
        )
        self.monitoring.add_operations(self.metrics_namespace, label="Lambda")
        self.monitoring.add_http_api(http_api.api, http_api.access_logs, self.metrics_namespace)
        self.monitoring.add_function(function.function)
        self.monitoring.add_table(data.table, dynamodb_operations(STORE_ACTIONS))
        self.service: ContainerService | None = None
        if fargate:
            self.service = ContainerService(
                self,
                "Container",
                repo_root=REPO_ROOT,
                table=data.table,
                user_pool_id=auth.user_pool.user_pool_id,
                client_ids=auth.client_ids,
                admin_group=admin_group,
                cursor_secret=function.cursor_secret,
                cors_allow_origins=cors_allow_origins,
                metrics_namespace=f"{self.metrics_namespace}/service",
                certificate_arn=certificate_arn,
                log_retention=log_retention,
                retain=retain,
            )
            self.monitoring.add_operations(f"{self.metrics_namespace}/service", label="Service")
            self.monitoring.add_load_balancer(
                self.service.service.load_balancer, self.service.service.target_group
            )
            CfnOutput(
                self,
                "ServiceUrl",
                value=f"http{'s' if certificate_arn else ''}://"
                f"{self.service.service.load_balancer.load_balancer_dns_name}/",
                description="Base URL of the container service (the load balancer)",
            )
        self.monitoring.finish()

        CfnOutput(self, "ApiUrl", value=http_api.url, description="Base URL of the API")
        CfnOutput(self, "UserPoolId", value=auth.user_pool.user_pool_id)
        CfnOutput(
            self,
            "WebClientId",
            value=auth.web_client.user_pool_client_id,
            description="Public client: authorization code with PKCE (people)",
        )
        CfnOutput(
            self,
            "ServiceClientId",
            value=auth.service_client.user_pool_client_id,
            description="Confidential client: client credentials (services); secret in Cognito",
        )
        CfnOutput(self, "TokenUrl", value=auth.token_url, description="OAuth 2.0 token endpoint")
        CfnOutput(self, "AuthorizeUrl", value=auth.authorize_url)
        CfnOutput(self, "TableName", value=data.table.table_name)
        CfnOutput(self, "AdminGroup", value=admin_group)
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.monitoring.topic.topic_arn,
            description="SNS topic every alarm notifies: subscribe pagers or chat here",
        )
        CfnOutput(
            self,
            "DashboardUrl",
            value=(
                f"https://console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
                f"#dashboards:name=currency-api-{stage}"
            ),
        )
