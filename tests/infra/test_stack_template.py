"""The synthesized template: routes and authorizers from the spec, data safety, least privilege."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match

from currency_api.settings import Settings
from currency_api.store import PARTITION_KEY
from infra.bundling import LAMBDA_PYTHON
from infra.data import STORE_ACTIONS
from infra.function import ALIAS_NAME, HANDLER
from infra.http_api import DOCS_ROUTES
from infra.stack import DEFAULT_ADMIN_GROUP, REPO_ROOT, SPEC_PATH
from tests.infra.conftest import Synthesized, ref

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def spec_operations() -> dict[str, bool]:
    """'METHOD /path' -> whether the spec secures it, read straight from the YAML."""
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    operations: dict[str, bool] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                security = operation.get("security", spec.get("security", []))
                operations[f"{method.upper()} {path}"] = bool(security)
    return operations


def routes(stack: Synthesized) -> dict[str, dict[str, Any]]:
    """RouteKey -> the route's properties."""
    found = [r["Properties"] for r in stack.resources("AWS::ApiGatewayV2::Route").values()]
    keys = [props["RouteKey"] for props in found]
    assert len(keys) == len(set(keys)), f"duplicate routes: {keys}"
    return {props["RouteKey"]: props for props in found}


# --- routes and authorization ------------------------------------------------------------


def _routes_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }


def _only(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = [(k, r) for k, r in template["Resources"].items() if r["Type"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {[k for k, _ in found]}"
    return found[0]


def test_routes_match_spec_operations_plus_the_docs_and_default(stack: Synthesized) -> None:
    docs = {route.key for route in DOCS_ROUTES}
    assert set(routes(stack)) == set(spec_operations()) | docs | {"$default"}


def test_by_default_no_route_has_an_authorizer_the_app_verifies_tokens(
    stack: Synthesized,
) -> None:
    assert stack.resources("AWS::ApiGatewayV2::Authorizer") == {}
    for key, props in routes(stack).items():
        assert props.get("AuthorizationType", "NONE") == "NONE", key
    _, function = stack.only("AWS::Lambda::Function")
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment.get("TRUST_API_GATEWAY_CLAIMS", "false") == "false"


def test_opt_in_authorizer_is_on_exactly_the_secured_operations(
    authorizer_template: dict[str, Any],
) -> None:
    authorizer_id, _ = _only(authorizer_template, "AWS::ApiGatewayV2::Authorizer")
    secured = spec_operations()
    for key, props in _routes_of(authorizer_template).items():
        if secured.get(key, False):
            assert props["AuthorizationType"] == "JWT", key
            assert props["AuthorizerId"] == ref(authorizer_id), key
        else:
            assert props.get("AuthorizationType", "NONE") == "NONE", key
            assert "AuthorizerId" not in props, key


def test_routes_list_no_scopes_so_admin_group_users_get_through(
    authorizer_template: dict[str, Any],
) -> None:
    for key, props in _routes_of(authorizer_template).items():
        assert not props.get("AuthorizationScopes"), key


def test_jwt_authorizer_accepts_only_the_pool_issuer_and_our_clients(
    authorizer_template: dict[str, Any],
) -> None:
    _, authorizer = _only(authorizer_template, "AWS::ApiGatewayV2::Authorizer")
    pool_id, _ = _only(authorizer_template, "AWS::Cognito::UserPool")
    config = authorizer["Properties"]["JwtConfiguration"]
    issuer = json.dumps(config["Issuer"])
    assert "https://cognito-idp." in issuer
    assert json.dumps(ref(pool_id)) in issuer
    clients = sorted(
        k
        for k, r in authorizer_template["Resources"].items()
        if r["Type"] == "AWS::Cognito::UserPoolClient"
    )
    assert sorted(a["Ref"] for a in config["Audience"]) == clients
    assert authorizer["Properties"]["IdentitySource"] == ["$request.header.Authorization"]


def test_every_route_invokes_the_live_alias_with_payload_format_2(stack: Synthesized) -> None:
    integration_id, integration = stack.only("AWS::ApiGatewayV2::Integration")
    alias_id, _ = stack.only("AWS::Lambda::Alias")
    assert integration["Properties"]["IntegrationUri"] == ref(alias_id)
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    for key, props in routes(stack).items():
        assert props["Target"] == {"Fn::Join": ["", ["integrations/", ref(integration_id)]]}, key
    for permission in stack.resources("AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] == ref(alias_id)
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"


def test_stage_is_throttled_and_writes_json_access_logs(stack: Synthesized) -> None:
    _, stage = stack.only("AWS::ApiGatewayV2::Stage")
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    log_format = json.loads(props["AccessLogSettings"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert log_format["status"] == "$context.status"


# --- data --------------------------------------------------------------------------------


def test_table_is_keyed_as_the_store_expects(stack: Synthesized) -> None:
    stack.assertions.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def test_table_has_pitr_encryption_and_deletion_protection_and_is_retained(
    stack: Synthesized,
) -> None:
    _, table = stack.only("AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_every_log_group_has_a_retention_period(stack: Synthesized) -> None:
    groups = stack.resources("AWS::Logs::LogGroup")
    assert len(groups) == 2  # the function's and the access logs
    for logical_id, group in groups.items():
        assert group["Properties"]["RetentionInDays"] > 0, logical_id
        assert group["DeletionPolicy"] == "Retain", logical_id


def test_user_pool_is_invite_only_with_mfa_and_strong_passwords(stack: Synthesized) -> None:
    _, pool = stack.only("AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    for requirement in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"):
        assert policy[requirement] is True
    assert props["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "Retain"


def test_resource_server_scopes_are_the_spec_scopes(stack: Synthesized) -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    flows = spec["components"]["securitySchemes"]["cognito"]["flows"].values()
    spec_scopes = {scope for flow in flows for scope in flow["scopes"]}
    _, server = stack.only("AWS::Cognito::UserPoolResourceServer")
    identifier = server["Properties"]["Identifier"]
    scopes = {f"{identifier}/{s['ScopeName']}" for s in server["Properties"]["Scopes"]}
    assert scopes == spec_scopes


def test_web_client_is_public_pkce_and_cannot_ask_for_the_write_scope(
    stack: Synthesized,
) -> None:
    clients = {
        c["Properties"]["ClientName"]: c
        for c in stack.resources("AWS::Cognito::UserPoolClient").values()
    }
    web = clients["web"]["Properties"]
    assert web["GenerateSecret"] is False
    assert web["AllowedOAuthFlows"] == ["code"]
    assert "write" not in json.dumps(web["AllowedOAuthScopes"])
    assert "/read" in json.dumps(web["AllowedOAuthScopes"])
    assert "ui/oauth2-redirect.html" in json.dumps(web["CallbackURLs"])
    service = clients["service"]["Properties"]
    assert service["GenerateSecret"] is True
    assert service["AllowedOAuthFlows"] == ["client_credentials"]
    assert {"/read", "/write"} <= set(
        re.findall(r"/\w+", json.dumps(service["AllowedOAuthScopes"]))
    )


def test_admin_group_and_hosted_domain_exist(stack: Synthesized) -> None:
    stack.assertions.has_resource_properties(
        "AWS::Cognito::UserPoolGroup", {"GroupName": DEFAULT_ADMIN_GROUP}
    )
    stack.assertions.resource_count_is("AWS::Cognito::UserPoolDomain", 1)


# --- the function --------------------------------------------------------------------------


def test_function_runs_a_snapstart_python_on_arm64_with_the_lambda_handler(
    stack: Synthesized,
) -> None:
    _, function = stack.only("AWS::Lambda::Function")
    props = function["Properties"]
    major, minor = map(int, LAMBDA_PYTHON.split("."))
    assert (major, minor) >= (3, 12), "SnapStart for Python needs 3.12 or later"
    assert props["Runtime"] == f"python{LAMBDA_PYTHON}"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == HANDLER == "currency_api.lambda_function.lambda_handler"
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert 3 <= props["Timeout"] < 30  # inside API Gateway's 30 s integration timeout
    assert props["MemorySize"] >= 512


def test_snapstart_is_on_and_the_api_calls_an_alias_of_a_published_version(
    stack: Synthesized,
) -> None:
    function_id, function = stack.only("AWS::Lambda::Function")
    assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    version_id, version = stack.only("AWS::Lambda::Version")
    assert version["Properties"]["FunctionName"] == ref(function_id)
    _, alias = stack.only("AWS::Lambda::Alias")
    assert alias["Properties"]["Name"] == ALIAS_NAME
    assert alias["Properties"]["FunctionName"] == ref(function_id)
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def test_function_environment_is_what_settings_from_env_needs(stack: Synthesized) -> None:
    _, function = stack.only("AWS::Lambda::Function")
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    table_id, _ = stack.only("AWS::DynamoDB::Table")
    pool_id, _ = stack.only("AWS::Cognito::UserPool")
    assert variables["TABLE_NAME"] == ref(table_id)
    assert variables["COGNITO_USER_POOL_ID"] == ref(pool_id)
    assert variables["ADMIN_GROUP"] == DEFAULT_ADMIN_GROUP
    assert "{{resolve:secretsmanager:" in json.dumps(variables["CURSOR_SECRET"])
    # What Lambda would hand the app: tokens resolved to plausible values, AWS_REGION added.
    resolved = {
        name: value if isinstance(value, str) else f"resolved-{name.lower()}"
        for name, value in variables.items()
    }
    settings = Settings.from_env({**resolved, "AWS_REGION": "us-east-1"})
    assert settings.table_name == "resolved-table_name"
    assert settings.trust_gateway_claims is False
    assert settings.validate_responses is False


def test_function_role_may_use_only_its_table_with_the_store_actions(stack: Synthesized) -> None:
    role_id, role = stack.only("AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    _, policy = stack.only("AWS::IAM::Policy")
    assert policy["Properties"]["Roles"] == [ref(role_id)]
    table_id, _ = stack.only("AWS::DynamoDB::Table")
    log_group_ids = set(stack.resources("AWS::Logs::LogGroup"))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    # X-Ray's two write actions take no resource ARN (Resource "*" is their only form).
    xray = [s for s in statements if "xray:" in json.dumps(s["Action"])]
    assert len(xray) == 1
    assert sorted(xray[0]["Action"]) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    assert xray[0]["Resource"] == "*"
    statements = [s for s in statements if s is not xray[0]]
    dynamodb = [s for s in statements if "dynamodb:" in json.dumps(s["Action"])]
    assert len(dynamodb) == 1
    assert sorted(dynamodb[0]["Action"]) == sorted(STORE_ACTIONS)
    assert dynamodb[0]["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Action"])
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            assert resource != "*"
            if statement is not dynamodb[0]:
                assert resource["Fn::GetAtt"][0] in log_group_ids
                assert set(statement["Action"]) <= {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_granted_dynamodb_actions_are_the_calls_the_store_makes() -> None:
    """Reads currency_api/store.py: every ``self._client.<call>`` outside local-only setup."""
    local_only = {"ensure_table"}  # creates the table in emulators; CDK does that in AWS
    tree = ast.parse((REPO_ROOT / "currency_api" / "store.py").read_text(encoding="utf-8"))
    calls: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if function.name in local_only:
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "_client"
            ):
                calls.add(node.func.attr)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "transact":
                calls.add("transact_write_items")
    if "transact_write_items" in calls:
        # IAM authorizes each action of a transaction as its single-item call.
        calls.remove("transact_write_items")
        kinds = {"Put": "put_item", "Delete": "delete_item", "Update": "update_item"}
        kinds["ConditionCheck"] = "condition_check_item"
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in kinds:
                        calls.add(kinds[key.value])
    actions = {"dynamodb:" + "".join(part.title() for part in call.split("_")) for call in calls}
    assert actions == set(STORE_ACTIONS)


# --- outputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "output", ["ApiUrl", "UserPoolId", "WebClientId", "ServiceClientId", "TokenUrl"]
)
def test_stack_outputs_what_a_caller_needs(stack: Synthesized, output: str) -> None:
    assert output in stack.template["Outputs"]
    stack.assertions.has_output(output, {"Value": Match.any_value()})
    if output == "TokenUrl":
        assert "/oauth2/token" in json.dumps(stack.template["Outputs"][output]["Value"])
