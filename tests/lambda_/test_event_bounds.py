"""The same bounds through lambda_handler: query strings (payload 2.0 ``rawQueryString``, 1.0
query parameter maps), joined header lists, typed events, trailing slashes and the 201
``Location`` on a named stage."""

from __future__ import annotations

import json
from typing import Any

import pytest

from currency_api import local
from currency_api.app import load_spec
from currency_api.bounds import bounds_from_spec
from tests import tokens
from tests.conftest import euro
from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2, rest_api_v1
from tests.problems import assert_problem

CONTEXT = LambdaContext()
BOUNDS = bounds_from_spec(load_spec())


def problem_of(result: dict[str, Any], status: int) -> dict[str, Any]:
    return assert_problem(result, status, max_bytes=512)


def test_6000_parameters_in_raw_query_string_are_refused_without_a_token(
    handler: Handler,
) -> None:
    many = http_api_v2("GET", "/health", query=[(f"p{i}", "1") for i in range(6_000)])
    problem_of(handler(many, CONTEXT), 414)
    short = http_api_v2("GET", "/health")
    short["rawQueryString"] = "&".join(["p"] * 100)  # under the length bound, over the count
    assert "parameters" in problem_of(handler(short, CONTEXT), 400)["detail"]


def test_a_rest_api_event_with_too_many_query_parameters_is_refused(handler: Handler) -> None:
    event = rest_api_v1("GET", "/health")
    event["multiValueQueryStringParameters"] = {f"p{i}": ["1"] for i in range(100)}
    event["queryStringParameters"] = {f"p{i}": "1" for i in range(100)}
    problem_of(handler(event, CONTEXT), 400)
    single = rest_api_v1("GET", "/health")
    single["queryStringParameters"] = {"cursor": "A" * BOUNDS.max_query_bytes}
    problem_of(handler(single, CONTEXT), 414)


def test_an_ordinary_query_is_served(handler: Handler, admin: dict[str, str]) -> None:
    event = http_api_v2("GET", "/currencies", query=[("limit", "5")], headers=admin)
    assert handler(event, CONTEXT)["statusCode"] == 200


def test_if_match_lists_joined_by_the_gateway_are_bounded_in_all(
    handler: Handler, admin: dict[str, str]
) -> None:
    # API Gateway joins repeated fields with commas: the joined list is what is bounded.
    joined = ", ".join(f'"{i}"' for i in range(2_000))
    event = http_api_v2("DELETE", "/currencies/EUR", headers={**admin, "if-match": joined})
    problem_of(handler(event, CONTEXT), 400)


@pytest.mark.parametrize(
    ("path", "method", "accepted"),
    [
        ("/currencies", "POST", "application/json"),
        ("/currencies/EUR", "PATCH", "application/merge-patch+json"),
        ("/currencies/EUR", "PUT", "application/json"),
    ],
)
def test_a_wrong_media_type_is_a_415_naming_what_the_operation_takes(
    handler: Handler, admin: dict[str, str], path: str, method: str, accepted: str
) -> None:
    # As over HTTP (tests/integration/test_framework_problems.py): Mangum's scope has no
    # "extensions", where Connexion's routing leaves the operation for the 415's handler.
    wrong = "application/json" if method == "PATCH" else "text/plain"
    event = http_api_v2(method, path, headers={**admin, "content-type": wrong}, body={"a": 1})
    problem = problem_of(handler(event, CONTEXT), 415)
    assert problem["detail"] == f"The media type '{wrong}' is not accepted; send {accepted}."
    assert problem["errors"][0]["detail"] == f"must be {accepted}"


def test_a_30_kb_content_type_is_a_short_415(handler: Handler, admin: dict[str, str]) -> None:
    headers = {**admin, "content-type": "application/" + "x" * 30_000}
    event = http_api_v2("POST", "/currencies", headers=headers, body=euro())
    problem_of(handler(event, CONTEXT), 415)


@pytest.mark.parametrize("value", ["false", "true", 0, 1, None, [], {}])
def test_is_base64_encoded_that_is_not_a_boolean_is_a_malformed_event(
    handler: Handler, admin: dict[str, str], value: Any
) -> None:
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro(code="QBE"))
    event["isBase64Encoded"] = value
    problem = problem_of(handler(event, CONTEXT), 400)
    assert "isBase64Encoded" in problem["detail"]


def test_is_base64_encoded_false_reads_the_body_as_text(
    handler: Handler, admin: dict[str, str]
) -> None:
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro(code="QBF"))
    assert event["isBase64Encoded"] is False
    assert handler(event, CONTEXT)["statusCode"] == 201


@pytest.mark.parametrize("stage", ["$default", "prod"])
def test_a_trailing_slash_is_a_404_problem_without_a_location(
    handler: Handler, admin: dict[str, str], stage: str
) -> None:
    event = http_api_v2("GET", "/currencies/", headers=admin, stage=stage)
    result = handler(event, CONTEXT)
    problem_of(result, 404)
    assert "location" not in {name.lower() for name in result["headers"]}


@pytest.mark.parametrize(("stage", "prefix"), [("$default", ""), ("prod", "/prod")])
def test_the_201_location_keeps_the_stage_of_an_http_api(
    handler: Handler, admin: dict[str, str], stage: str, prefix: str
) -> None:
    code = "QSD" if stage == "$default" else "QSP"
    event = http_api_v2("POST", "/currencies", headers=admin, body=euro(code=code), stage=stage)
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 201, result
    assert result["headers"]["location"] == f"{prefix}/currencies/{code}"


def test_the_201_location_keeps_the_stage_of_a_rest_api(
    handler: Handler, admin: dict[str, str]
) -> None:
    event = rest_api_v1("POST", "/currencies", headers=admin, body=euro(code="QRS"))
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 201, result
    headers = {name.lower(): value for name, value in result["headers"].items()}
    assert headers["location"] == "/prod/currencies/QRS"


@pytest.mark.parametrize(
    ("stage", "prefix"), [("$default", ""), ("prod", "/prod"), ("ui", "/ui"), ("u", "/u")]
)
def test_swagger_ui_keeps_the_stage_of_an_http_api(
    handler: Handler, stage: str, prefix: str
) -> None:
    redirect = handler(http_api_v2("GET", "/ui", stage=stage), CONTEXT)
    assert redirect["statusCode"] == 307, redirect
    assert redirect["headers"]["location"] == f"{prefix}/ui/"
    # No content, so no media type: as uvicorn sends it (Mangum would say application/json).
    assert redirect["body"] == ""
    assert "content-type" not in redirect["headers"]
    page = handler(http_api_v2("GET", "/ui/", stage=stage), CONTEXT)
    assert page["statusCode"] == 200, page
    # The page fetches the spec from where the caller reaches it.
    assert f'"{prefix}/openapi.json"' in page["body"]
    assert "frame-ancestors 'none'" in page["headers"]["content-security-policy"]
    script = handler(http_api_v2("GET", "/ui/swagger-ui-bundle.js", stage=stage), CONTEXT)
    assert script["statusCode"] == 200, script["statusCode"]
    spec = handler(http_api_v2("GET", "/openapi.json", stage=stage), CONTEXT)
    assert spec["statusCode"] == 200, spec["statusCode"]


@pytest.mark.parametrize("stage", ["prod", "ui", "u"])
def test_swagger_ui_under_a_stage_refuses_what_it_refuses_on_default(
    handler: Handler, stage: str
) -> None:
    for method, path in [("POST", "/ui/x/"), ("OPTIONS", "/ui//"), ("GET", "/ui/x/")]:
        on_default = handler(http_api_v2(method, path), CONTEXT)
        staged = handler(http_api_v2(method, path, stage=stage), CONTEXT)
        assert staged["statusCode"] == on_default["statusCode"], (method, path, staged)
        assert staged["headers"].get("allow") == on_default["headers"].get("allow")


@pytest.mark.parametrize(
    "public",
    [
        "//evil.example/ui",  # would be an off-site redirect
        '/x",a:alert(1),b:"/ui',  # would be script in the page
        "/../ui",
        "/a%2Fb/ui",
    ],
)
def test_a_path_prefix_no_gateway_sends_is_never_sent_back(handler: Handler, public: str) -> None:
    event = rest_api_v1("GET", "/ui")
    event["requestContext"]["path"] = public
    redirect = handler(event, CONTEXT)
    assert redirect["statusCode"] == 307, redirect
    headers = {name.lower(): value for name, value in redirect["headers"].items()}
    assert headers["location"] == "/ui/"
    page_event = rest_api_v1("GET", "/ui/")
    page_event["requestContext"]["path"] = public + "/"
    page = handler(page_event, CONTEXT)
    assert '"/openapi.json"' in page["body"]
    assert "evil" not in page["body"]
    assert "alert" not in page["body"]


@pytest.mark.parametrize("given", ["/prod", "//evil.example", '/x"</script><script>'])
def test_a_path_prefix_in_the_invokers_event_is_never_used(
    handler: Handler, admin: dict[str, str], given: str
) -> None:
    # The key is where normalize leaves the prefix it found; an invoker cannot set it.
    redirect = http_api_v2("GET", "/ui")
    redirect["currencyApi.pathPrefix"] = given
    assert handler(redirect, CONTEXT)["headers"]["location"] == "/ui/"
    page = http_api_v2("GET", "/ui/")
    page["currencyApi.pathPrefix"] = given
    assert given not in handler(page, CONTEXT)["body"]
    created = http_api_v2("POST", "/currencies", headers=admin, body=euro(code="QPI"))
    created["currencyApi.pathPrefix"] = given
    result = handler(created, CONTEXT)
    assert result["statusCode"] == 201, result
    assert result["headers"]["location"] == "/currencies/QPI"


def test_head_of_a_swagger_ui_page_sends_the_policy_of_get(handler: Handler) -> None:
    for path in ("/ui/", "/ui/oauth2-redirect.html"):
        get = handler(http_api_v2("GET", path), CONTEXT)
        head = handler(http_api_v2("HEAD", path), CONTEXT)
        assert head["body"] == ""
        for name in ("content-security-policy", "content-length", "content-type"):
            assert head["headers"][name] == get["headers"][name], (path, name)


@pytest.mark.parametrize("path", ["/openapi.json", "/openapi.yaml", "/ui/"])
def test_a_405_outside_the_spec_lists_allow_in_the_spec_order(handler: Handler, path: str) -> None:
    # Starlette joins a route's method set, whose order changes with the process's hash seed.
    result = handler(http_api_v2("DELETE", path), CONTEXT)
    assert result["statusCode"] == 405, result
    assert result["headers"]["allow"] == "GET, HEAD"


def test_an_http_api_stage_no_gateway_names_is_left_in_the_path(handler: Handler) -> None:
    result = handler(http_api_v2("GET", "/ui", stage='x"'), CONTEXT)
    assert result["statusCode"] == 404, result  # /x"/ui: no route, and nothing sent back
    assert "location" not in result["headers"]


def test_swagger_ui_keeps_the_stage_of_a_rest_api(handler: Handler) -> None:
    redirect = handler(rest_api_v1("GET", "/ui"), CONTEXT)
    assert redirect["statusCode"] == 307, redirect
    headers = {name.lower(): value for name, value in redirect["headers"].items()}
    assert headers["location"] == "/prod/ui/"
    page = handler(rest_api_v1("GET", "/ui/"), CONTEXT)
    assert page["statusCode"] == 200, page
    assert '"/prod/openapi.json"' in page["body"]


def test_a_host_header_of_the_callers_choice_is_never_echoed(
    handler: Handler, admin: dict[str, str]
) -> None:
    for path in ("/currencies/", "/ui", "/currencies"):
        event = http_api_v2("GET", path, headers={**admin, "host": "evil.example"})
        result = handler(event, CONTEXT)
        assert "evil.example" not in json.dumps(result)


@pytest.mark.parametrize("limit", ["+5", "5_0", "%D9%A5"])
def test_limit_that_is_not_ascii_digits_is_a_400_through_lambda(
    handler: Handler, admin: dict[str, str], limit: str
) -> None:
    event = http_api_v2("GET", "/currencies", headers=admin)
    event["rawQueryString"] = f"limit={limit}"
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 400, result
    assert "query parameter 'limit'" in json.loads(result["body"])["detail"]


def test_a_signed_token_with_string_groups_is_a_401_through_lambda(
    handler: Handler, admin_token: str
) -> None:
    claims = {**tokens.claims_of(admin_token), "cognito:groups": "x currency-admins"}
    token = tokens.sign(claims, local.moto_private_key(), local.MOTO_KID)
    headers = {"authorization": f"Bearer {token}"}
    event = http_api_v2("POST", "/currencies", headers=headers, body=euro(code="QGS"))
    result = handler(event, CONTEXT)
    assert result["statusCode"] == 401, result


def test_swagger_ui_on_lambda_does_not_persist_the_pasted_token(handler: Handler) -> None:
    result = handler(http_api_v2("GET", "/ui/swagger-ui-config.json"), CONTEXT)
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["persistAuthorization"] is False
    page = handler(http_api_v2("GET", "/ui/"), CONTEXT)
    assert "frame-ancestors 'none'" in page["headers"]["content-security-policy"]
    assert page["headers"]["x-frame-options"] == "DENY"


@pytest.mark.parametrize("stage", ["$default", "prod"])
def test_head_of_the_spec_documents_sends_the_header_fields_of_get(
    handler: Handler, stage: str
) -> None:
    for path in ("/openapi.json", "/openapi.yaml"):
        head = handler(http_api_v2("HEAD", path, stage=stage), CONTEXT)  # before any GET
        get = handler(http_api_v2("GET", path, stage=stage), CONTEXT)
        assert head["statusCode"] == get["statusCode"] == 200, head
        assert head["body"] == ""
        for name in ("content-type", "content-length", "etag", "cache-control"):
            assert head["headers"][name] == get["headers"][name], name
        assert int(get["headers"]["content-length"]) == len(get["body"].encode())
        again = {"if-none-match": get["headers"]["etag"]}
        assert (
            handler(http_api_v2("HEAD", path, stage=stage, headers=again), CONTEXT)["statusCode"]
            == 304
        )


@pytest.mark.parametrize("stage", ["$default", "prod"])
def test_the_spec_documents_are_conditional_on_lambda(handler: Handler, stage: str) -> None:
    for path in ("/openapi.json", "/openapi.yaml"):
        first = handler(http_api_v2("GET", path, stage=stage), CONTEXT)
        assert first["statusCode"] == 200, first
        etag = first["headers"]["etag"]
        again = http_api_v2("GET", path, stage=stage, headers={"if-none-match": etag})
        result = handler(again, CONTEXT)
        assert result["statusCode"] == 304, result
        assert result["headers"]["etag"] == etag
