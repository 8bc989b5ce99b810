"""API Gateway event shapes as AWS documents them.

HTTP API payload format 2.0: "Working with AWS Lambda proxy integrations for HTTP APIs",
API Gateway developer guide. REST API 1.0: "Input format of a Lambda function for proxy
integration".
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any
from urllib.parse import urlencode


def fresh_interpreter_environment(**extra: str) -> dict[str, str]:
    """The environment of a Lambda function for tests that start a fresh interpreter: the
    variables Settings requires, dummy credentials, no instance metadata lookups."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "TABLE_NAME": "currencies",
        "AWS_REGION": "us-east-1",
        "COGNITO_USER_POOL_ID": "us-east-1_Example1",
        "COGNITO_APP_CLIENT_IDS": "exampleclientid",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # dummy: nothing is reached
        **extra,
    }


def http_api_v2(
    method: str,
    path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    base64_body: bool = False,
    stage: str = "$default",
    cookies: list[str] | None = None,
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An HTTP API v2.0 event; ``query`` may repeat keys (joined by commas, as AWS does)."""
    raw_query = urlencode(query or [])
    params: dict[str, str] = {}
    for key, value in query or []:
        params[key] = f"{params[key]},{value}" if key in params else value
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event_headers = {
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "pytest",
        "x-amzn-trace-id": "Root=1-5e66d96f-7491f09xmpl79d18acf3d050",
        "x-forwarded-for": "198.51.100.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    text: str | None = None
    if body is not None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        text = base64.b64encode(raw).decode() if base64_body else raw.decode()
        event_headers.setdefault("content-type", "application/json")
        event_headers["content-length"] = str(len(raw))
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": event_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "pytest",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} {path}",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if params:
        event["queryStringParameters"] = params
    if cookies:
        event["cookies"] = cookies
    if text is not None:
        event["body"] = text
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def rest_api_v1(
    method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None
) -> dict[str, Any]:
    """A REST API (payload 1.0) proxy event."""
    text = None if body is None else json.dumps(body)
    all_headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    if text is not None:
        all_headers.setdefault("Content-Type", "application/json")
        all_headers["Content-Length"] = str(len(text.encode()))
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "httpMethod": method,
            "path": f"/prod{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "resourcePath": "/{proxy+}",
            "stage": "prod",
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "pytest"},
        },
        "body": text,
        "isBase64Encoded": False,
    }


class LambdaContext:
    """The attributes of the Lambda context object that Mangum and loggers read."""

    function_name = "currency-api"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:currency-api:live"
    memory_limit_in_mb = 1024
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name = "/aws/lambda/currency-api"
    log_stream_name = "2026/11/29/[1]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
