"""SpecHttpApi: an API Gateway HTTP API whose routes are generated from spec/openapi.yaml.

One route per operation (method and path), the public routes of the docs and the spec that
Connexion serves, and a ``$default`` route: every method and path no route names reaches the
function too, so the app, not the gateway, answers 404 and 405 (with ``Allow``), HEAD and
OPTIONS, as problem+json the spec declares.

By default no route has an authorizer: the app verifies every token itself and answers 401/403
as problem+json with the RFC 6750 challenge. With ``gateway_authorizer`` the routes of secured
operations also carry the JWT authorizer, whose ``401 {"message":"Unauthorized"}`` the spec
declares beside the app's (HTTP APIs cannot customise it). No route lists authorization
scopes: users are granted writes by Cognito group, which the authorizer cannot see, and user
tokens carry no custom scopes, so route scopes would turn away the admin-group users the spec
admits (and answer a 403 the spec does not declare). The app enforces scopes and groups.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from infra.spec_routes import Route, UnexpressibleSpecError

#: What Connexion serves besides the operations (create_app: swagger_ui_path="/ui", and
#: Connexion's spec routes), all public. ``/ui`` redirects to ``/ui/``, which the greedy
#: route serves along with Swagger UI's static files.
DOCS_ROUTES: Final = (
    Route("GET", "/openapi.json", "connexion: the spec as JSON", secured=False),
    Route("GET", "/openapi.yaml", "connexion: the spec as YAML", secured=False),
    Route("GET", "/ui", "connexion: Swagger UI (redirect)", secured=False),
    Route("GET", "/ui/{proxy+}", "connexion: Swagger UI", secured=False),
)

#: Request headers the API reads, and response headers browsers may show to scripts.
CORS_ALLOW_HEADERS: Final = ("Authorization", "Content-Type", "If-Match", "If-None-Match")
CORS_EXPOSE_HEADERS: Final = ("ETag", "Location", "Retry-After", "WWW-Authenticate")

#: One JSON object per request ($context variables of HTTP APIs: API Gateway developer guide,
#: "Customizing HTTP API access logs").
ACCESS_LOG_FIELDS: Final = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "principal": "$context.authorizer.claims.sub",
    "clientId": "$context.authorizer.claims.client_id",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """Where and how a stage writes access logs (CDK asks for an object with both)."""

    def __init__(
        self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat
    ) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def gateway_routes(spec_routes: Sequence[Route]) -> tuple[Route, ...]:
    """The spec's routes followed by :data:`DOCS_ROUTES`.

    Raises:
        UnexpressibleSpecError: a spec operation collides with a docs route.
    """
    docs = {route.key: route for route in DOCS_ROUTES}
    for route in spec_routes:
        if route.key in docs:
            raise UnexpressibleSpecError(
                f"operation {route.operation_id} ({route.key}) collides with the route "
                f"Connexion serves itself ({docs[route.key].operation_id})"
            )
    return (*spec_routes, *DOCS_ROUTES)


class SpecHttpApi(Construct):
    """HTTP API with a throttled, logged ``$default`` stage; routes come with :meth:`add_routes`.

    The API exists before its routes so that the user pool's clients can name its URL (the
    Swagger UI redirect) while the routes' authorizer names the clients.

    Args:
        api_name: the API's name in the console.
        cors_allow_origins: CORS origins; none turns CORS off.
        throttle_rate, throttle_burst: the stage's steady requests per second and burst.
        log_retention: how long access logs are kept.
        retain: keep the access log group when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str = "currency-api",
        cors_allow_origins: Sequence[str] = (),
        throttle_rate: int = 100,
        throttle_burst: int = 200,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        retain: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=api_name,
            description="Currency API: routes generated from spec/openapi.yaml.",
            create_default_stage=False,
            cors_preflight=(
                apigwv2.CorsPreflightOptions(
                    allow_origins=list(cors_allow_origins),
                    allow_methods=[apigwv2.CorsHttpMethod.ANY],
                    allow_headers=list(CORS_ALLOW_HEADERS),
                    expose_headers=list(CORS_EXPOSE_HEADERS),
                    max_age=Duration.minutes(10),
                )
                if cors_allow_origins
                else None
            ),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
            access_log_settings=_AccessLogSettings(
                destination=apigwv2.LogGroupLogDestination(self.access_logs),
                log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        self.routes: tuple[Route, ...] = ()

    @property
    def url(self) -> str:
        """The API's base URL, ending in ``/``."""
        url = self.stage.url
        if url is None:  # only for a stage without an API; ours always has one
            raise ValueError("the stage has no URL")
        return url

    def add_routes(
        self,
        routes: Sequence[Route],
        *,
        handler: lambda_.IFunction,
        issuer: str,
        audience: Sequence[str],
        gateway_authorizer: bool = False,
    ) -> None:
        """One route per entry and the ``$default`` route, all invoking ``handler`` with
        payload format 2.0.

        Args:
            routes: from :func:`gateway_routes`.
            handler: what every route invokes (the function's alias).
            issuer, audience: the JWT authorizer's accepted ``iss`` and ``aud``/``client_id``.
            gateway_authorizer: put the JWT authorizer on the routes of secured operations
                (opt-in; the app verifies every token either way).
        """
        self.authorizer: authorizers.HttpJwtAuthorizer | None = (
            authorizers.HttpJwtAuthorizer(
                "CognitoJwt",
                issuer,
                jwt_audience=list(audience),
                identity_source=["$request.header.Authorization"],
            )
            if gateway_authorizer
            else None
        )
        integration = integrations.HttpLambdaIntegration(
            "Function",
            handler,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        for route in routes:
            authorized = route.secured and self.authorizer is not None
            http_route = apigwv2.HttpRoute(
                self,
                f"Route {route.method} {route.path.replace('/', '|')}",
                http_api=self.api,
                route_key=apigwv2.HttpRouteKey.with_(route.path, apigwv2.HttpMethod(route.method)),
                integration=integration,
                authorizer=self.authorizer if authorized else apigwv2.HttpNoneAuthorizer(),
            )
            if not authorized:
                acknowledge(http_route, "AwsSolutions-APIG4", reason=_public_reason(route))
        self.default_route = apigwv2.HttpRoute(
            self,
            "Route $default",
            http_api=self.api,
            route_key=apigwv2.HttpRouteKey.DEFAULT,
            integration=integration,
            authorizer=apigwv2.HttpNoneAuthorizer(),
        )
        acknowledge(
            self.default_route,
            "AwsSolutions-APIG4",
            reason=(
                "$default carries what no route names (unknown paths, other methods, HEAD): the "
                "app answers 404/405 problems, and verifies the token of any operation it routes"
            ),
        )
        self.routes = (*self.routes, *routes)


def _public_reason(route: Route) -> str:
    """Why a route has no gateway authorizer (cdk-nag APIG4 acknowledgement)."""
    if route in DOCS_ROUTES:
        return f"{route.key} serves the API's documentation ({route.operation_id})"
    if not route.secured:
        return (
            f"{route.key} is public by design: the spec gives {route.operation_id} `security: []`"
        )
    return (
        f"{route.key} ({route.operation_id}) is authenticated by the app, which verifies every "
        "token (signature, issuer, expiry, client, token_use) and answers 401/403 problems; "
        "the gateway authorizer is opt-in (currency-api:gatewayAuthorizer, infra/README.md)"
    )
