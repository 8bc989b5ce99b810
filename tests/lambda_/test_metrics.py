"""Metrics of requests served through the Lambda handler: one EMF record on stdout each."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from currency_api.metrics import UNROUTED
from tests.emf import assert_valid_emf, emf_records
from tests.lambda_.conftest import Handler
from tests.lambda_.events import LambdaContext, http_api_v2

NAMESPACE = "CurrencyApi/test"


@pytest.fixture(autouse=True)
def _namespace(monkeypatch: pytest.MonkeyPatch, lambda_env: dict[str, str]) -> None:
    monkeypatch.setenv("METRICS_NAMESPACE", NAMESPACE)


def one_record(output: str) -> dict[str, Any]:
    """The only EMF record in ``output``, checked against the specification."""
    records = emf_records(output)
    assert len(records) == 1, output
    (record,) = records
    assert_valid_emf(record)
    return record


def metric(record: dict[str, Any], name: str) -> float:
    value = record[name]
    (single,) = value if isinstance(value, list) else [value]
    return float(single)


def test_a_lambda_invocation_prints_one_emf_record_naming_its_operation(
    handler: Handler, admin: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = handler(http_api_v2("GET", "/currencies/XXX", headers=admin), LambdaContext())

    assert result["statusCode"] == 404
    record = one_record(capsys.readouterr().out)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [["operationId", "statusClass"], ["operationId"]]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units["Latency"] == "Milliseconds"
    assert {units["4xx"], units["5xx"], units["ColdStart"]} == {"Count"}
    assert record["operationId"] == "getCurrency"
    assert record["statusClass"] == "4xx"
    assert metric(record, "4xx") == 1
    assert metric(record, "5xx") == 0
    assert metric(record, "Latency") > 0


def test_only_the_first_invocation_of_an_environment_is_a_cold_start(
    handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    handler(http_api_v2("GET", "/health"), LambdaContext())
    first = one_record(capsys.readouterr().out)
    handler(http_api_v2("GET", "/health"), LambdaContext())
    second = one_record(capsys.readouterr().out)

    assert first["operationId"] == second["operationId"] == "getHealth"
    assert (metric(first, "ColdStart"), metric(second, "ColdStart")) == (1, 0)
    assert second["statusClass"] == "2xx"
    assert "TokenCacheHit" not in second  # no token, nothing verified


def test_a_path_no_operation_matches_is_recorded_as_unrouted(
    handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    result = handler(http_api_v2("GET", "/no/such/path"), LambdaContext())

    assert result["statusCode"] == 404
    record = one_record(capsys.readouterr().out)
    assert record["operationId"] == UNROUTED
    assert record["statusClass"] == "4xx"


def test_the_record_holds_no_token_header_value_body_or_query(
    handler: Handler, admin: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    marker = "Zq9Marker"
    event = http_api_v2(
        "POST",
        "/currencies",
        query=[("probe", marker)],
        headers={**admin, "x-probe": marker, "user-agent": marker},
        body={"code": "ZQA", "name": f"{marker} dollar", "numericCode": "991", "minorUnit": 2},
    )
    handler(event, LambdaContext())

    output = capsys.readouterr().out
    record = one_record(output)
    line = json.dumps(record)
    token = admin["Authorization"].removeprefix("Bearer ")
    for secret in (marker, token, token.split(".")[1], "ZQA"):
        assert secret not in line
    directive = record["_aws"]["CloudWatchMetrics"][0]
    names = {m["Name"] for m in directive["Metrics"]}
    assert set(record) == {"_aws", "operationId", "statusClass"} | names
    assert record["operationId"] == "createCurrency"


def test_metrics_off_on_lambda_prints_no_record(
    monkeypatch: pytest.MonkeyPatch,
    import_lambda_function: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("METRICS", "off")
    module: ModuleType = import_lambda_function()
    module.lambda_handler(http_api_v2("GET", "/health"), LambdaContext())

    assert emf_records(capsys.readouterr().out) == []


def test_snapstart_priming_writes_no_record_and_a_restore_is_a_cold_start(
    lambda_module: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_module.lambda_handler(http_api_v2("GET", "/health"), LambdaContext())
    capsys.readouterr()
    lambda_module.before_snapshot()
    assert emf_records(capsys.readouterr().out) == []

    lambda_module.after_restore()
    lambda_module.lambda_handler(http_api_v2("GET", "/health"), LambdaContext())
    assert metric(one_record(capsys.readouterr().out), "ColdStart") == 1


def test_a_token_seen_before_is_a_token_cache_hit(
    handler: Handler, admin: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    event = http_api_v2("GET", "/currencies/XXX", headers=admin)
    handler(event, LambdaContext())
    first = one_record(capsys.readouterr().out)
    handler(event, LambdaContext())
    second = one_record(capsys.readouterr().out)

    assert (metric(first, "TokenCacheHit"), metric(second, "TokenCacheHit")) == (0, 1)
