"""The access line of a request that came through the Lambda handler."""

from __future__ import annotations

from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2
from tests.reliability.logcapture import json_logs


def test_on_lambda_the_access_line_carries_the_gateway_and_lambda_request_ids(
    handler: Handler, admin: dict[str, str]
) -> None:
    context = LambdaContext()
    with json_logs() as logs:
        result = handler(http_api_v2("GET", "/currencies/XXX", headers=admin), context)

    (line,) = logs.access()
    event_id = http_api_v2("GET", "/")["requestContext"]["requestId"]
    assert line["request_id"] == event_id
    assert line["aws_request_id"] == context.aws_request_id
    assert line["route"] == "/currencies/{code}"
    assert line["status"] == 404
    assert result["headers"]["x-request-id"] == event_id
