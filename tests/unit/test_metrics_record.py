"""RequestMetrics writes, request after request, the very record Powertools serialises for that
request (it keeps Powertools' record per operation and answer class as a template)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics

from currency_api import metrics as m


def _powertools_record(
    namespace: str, operation: str, status: int, latency: float, cold: bool, hit: bool | None
) -> dict[str, Any]:
    """The record built the plain Powertools way: add_dimension(s), add_metric, serialize."""
    answer = m.status_class(status)
    powertools = EphemeralMetrics(namespace=namespace)
    powertools.add_dimension(m.OPERATION_DIMENSION, operation)
    powertools.add_dimension(m.STATUS_CLASS_DIMENSION, answer)
    powertools.add_dimensions(**{m.OPERATION_DIMENSION: operation})
    values = {
        m.LATENCY: latency,
        m.CLIENT_ERRORS: 1.0 if answer == "4xx" else 0.0,
        m.SERVER_ERRORS: 1.0 if answer == "5xx" else 0.0,
        m.COLD_START: 1.0 if cold else 0.0,
    }
    if hit is not None:
        values[m.TOKEN_CACHE_HIT] = 1.0 if hit else 0.0
    for name, value in values.items():
        powertools.add_metric(name, m.METRIC_UNITS[name], value)
    return dict(powertools.serialize_metric_set())


def test_each_record_is_the_one_powertools_serialises(
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = [
        ("getCurrency", 200, 1.5, True),
        ("getCurrency", 200, 2.25, True),
        ("getCurrency", 404, 0.75, False),
        ("createCurrency", 201, 3.0, None),
        (None, 405, 0.5, None),
        ("getCurrency", 200, 9.125, False),
        ("deleteCurrency", 503, 12.0, True),
    ]
    recorder = m.RequestMetrics("CurrencyApi/test")
    for operation_id, status, latency, hit in calls:
        recorder.record(
            operation_id=operation_id, status=status, latency_ms=latency, token_cache_hit=hit
        )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(calls)
    for index, (line, (operation_id, status, latency, hit)) in enumerate(
        zip(lines, calls, strict=True)
    ):
        written = json.loads(line)
        expected = _powertools_record(
            "CurrencyApi/test", operation_id or m.UNROUTED, status, latency, index == 0, hit
        )
        assert abs(written["_aws"]["Timestamp"] - expected["_aws"]["Timestamp"]) < 5_000
        expected["_aws"]["Timestamp"] = written["_aws"]["Timestamp"]
        assert line == json.dumps(expected, separators=(",", ":"))


@pytest.mark.parametrize(
    ("environment", "written"),
    [
        ({"POWERTOOLS_METRICS_DISABLED": "true"}, False),
        ({"POWERTOOLS_DEV": "true"}, False),
        ({"POWERTOOLS_DEV": "true", "POWERTOOLS_METRICS_DISABLED": "false"}, True),
        ({}, True),
    ],
)
def test_powertools_switches_are_honoured(
    environment: dict[str, str],
    written: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Powertools' own rule (is_metrics_disabled), read when the recorder is built."""
    for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    recorder = m.RequestMetrics("CurrencyApi/test")
    recorder.record(operation_id="getCurrency", status=200, latency_ms=1.0, token_cache_hit=None)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == (1 if written else 0)
