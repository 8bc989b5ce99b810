"""CloudWatch metrics for every request: one record in the embedded metric format (EMF) on stdout.

On Lambda, CloudWatch Logs turns every stdout line that follows the EMF specification into
metrics, with no agent and no API call (CloudWatch user guide, "Using the embedded metric
format with Lambda"). The record is built by Powertools for AWS Lambda's Metrics
(``EphemeralMetrics``: no state shared with other instances), flushed once per request, so
each request is one JSON line. The library was chosen by measurement against
aws-embedded-metrics (bench/metrics_libs.py; figures and reasons in docs/metrics.md).

One record per request::

    {"_aws": {"Timestamp": 1767225600000, "CloudWatchMetrics": [{"Namespace": "CurrencyApi/prod",
      "Dimensions": [["operationId", "statusClass"], ["operationId"]],
      "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "4xx", "Unit": "Count"},
                  {"Name": "5xx", "Unit": "Count"}, {"Name": "ColdStart", "Unit": "Count"}, ...]}]},
     "operationId": "getCurrency", "statusClass": "2xx",
     "Latency": [3.2], "4xx": [0.0], "5xx": [0.0], "ColdStart": [0.0], "TokenCacheHit": [1.0]}

- ``operationId``: the spec operation the router matched, or ``unrouted`` (no operation: an
  unknown path or method, the docs pages, a request refused before routing).
- ``statusClass``: ``2xx`` .. ``5xx``.
- ``Latency`` (ms, from the first byte of the request in the app to the end of the answer),
  ``4xx`` and ``5xx`` (1 or 0: their Sum is a count, their Average a rate), ``ColdStart``
  (1 on the first request of a process or of a SnapStart restore), ``TokenCacheHit`` (1 or 0,
  only when the request carried a token that was verified: its Average is the hit rate).

Two dimension sets: ``[operationId]`` carries each operation's whole traffic (the p99 latency
and 5xx alarms read it), ``[operationId, statusClass]`` splits it by answer class (the
dashboard). Nothing from the request other than those two values is in a record: no token,
header value, body, path parameter or query string.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

#: The ``operationId`` dimension of a request no spec operation matched.
UNROUTED: Final = "unrouted"
#: The dimension names, as the stack's alarms and dashboard name them (infra/monitoring.py).
OPERATION_DIMENSION: Final = "operationId"
STATUS_CLASS_DIMENSION: Final = "statusClass"
#: Metric names and units (CloudWatch ``StandardUnit`` values).
LATENCY: Final = "Latency"
CLIENT_ERRORS: Final = "4xx"
SERVER_ERRORS: Final = "5xx"
COLD_START: Final = "ColdStart"
TOKEN_CACHE_HIT: Final = "TokenCacheHit"  # noqa: S105  (a metric name)
#: Records kept as templates at once (operations x answer classes x cold x 3 token states;
#: bounded anyway).
_TEMPLATES: Final = 512
METRIC_UNITS: Final = {
    LATENCY: "Milliseconds",
    CLIENT_ERRORS: "Count",
    SERVER_ERRORS: "Count",
    COLD_START: "Count",
    TOKEN_CACHE_HIT: "Count",
}


def status_class(status: int) -> str:
    """``"2xx"`` for 200..299 and so on; ``"5xx"`` for anything outside 100..599."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "5xx"


#: Stand-ins for the two per-request values while a key's record is written once: strings no
#: record holds in those places (json.dumps writes them quoted, ``"\u0000"`` and ``"\u0001"``).
_TIMESTAMP_MARK: Final = "\x00"
_LATENCY_MARK: Final = "\x01"


def _line_pieces(record: Mapping[str, Any]) -> tuple[str, str, str]:
    """The compact JSON line (with its newline) of a serialised EMF ``record`` as the pieces
    before ``_aws.Timestamp``, between it and the ``Latency`` value, and after it. json.dumps
    writes an int as ``str(int)`` and a finite float as ``float.__repr__``, so joining the
    pieces with ``str(timestamp)`` and ``repr(latency)`` gives json.dumps' very bytes.

    ``_aws`` is the record's first member and ``Timestamp`` its first, so the first timestamp
    mark is the one; the metric values follow the dimensions, so the last latency mark is.
    """
    marked = {
        **record,
        "_aws": {**record["_aws"], "Timestamp": _TIMESTAMP_MARK},
        LATENCY: [_LATENCY_MARK],
    }
    line = json.dumps(marked, separators=(",", ":")) + "\n"
    head, rest = line.split(json.dumps(_TIMESTAMP_MARK), 1)
    middle, tail = rest.rsplit(json.dumps(_LATENCY_MARK), 1)
    return head, middle, tail


class RequestMetrics:
    """Writes one EMF record per request to stdout, one line (Powertools prints the same line).

    Args:
        namespace: the CloudWatch namespace (Settings.metrics_namespace).

    Safe to call from several threads; a record is written whole or not at all.
    """

    def __init__(self, namespace: str) -> None:
        # Imported here, so a process that emits no metrics (the local server by default)
        # never loads Powertools.
        from aws_lambda_powertools.metrics import EphemeralMetrics
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        self.namespace = namespace
        self._metrics = EphemeralMetrics(namespace=namespace)
        # Powertools reads POWERTOOLS_METRICS_DISABLED / POWERTOOLS_DEV at every flush (several
        # environment reads, about 4 µs); a Lambda function's environment variables are fixed
        # for the life of its execution environment (changing them publishes a new version),
        # so they are read once, here.
        self._disabled = is_metrics_disabled()
        # Names and units are constants: Powertools' add_metric validates each once, here
        # (MetricNameError, MetricUnitError), instead of five times on every request.
        for name, unit in METRIC_UNITS.items():
            self._metrics.add_metric(name, unit, 0.0)
        self._metrics.clear_metrics()
        self._lock = threading.Lock()
        #: Powertools' record per (operationId, status class, cold start, token cache hit or
        #: None), as the three pieces of its JSON line around the timestamp and the latency
        #: (:meth:`_line`): every other value follows from the key.
        self._lines: dict[tuple[str, str, bool, bool | None], tuple[str, str, str]] = {}
        self._cold = True
        self._paused = False

    def record(
        self,
        *,
        operation_id: str | None,
        status: int,
        latency_ms: float,
        token_cache_hit: bool | None = None,
    ) -> None:
        """Write the record of one answered request.

        Args:
            operation_id: the matched operation's ``operationId``; None when none matched.
            status: the HTTP status sent.
            latency_ms: time spent answering, in milliseconds.
            token_cache_hit: whether the token was answered from the verified-token cache;
                None when no token was verified (then the metric is left out).
        """
        operation = operation_id or UNROUTED
        answer = status_class(status)
        with self._lock:
            if self._paused:
                return
            cold, self._cold = self._cold, False
            if self._disabled:  # POWERTOOLS_METRICS_DISABLED, as flush_metrics honours it
                return
            key = (operation, answer, cold, token_cache_hit)
            line = self._lines.get(key)
            if line is None:
                line = self._line(*key)
                if len(self._lines) >= _TEMPLATES:
                    self._lines.clear()
                self._lines[key] = line
            # Powertools' record for this key with this request's timestamp (the clock
            # Powertools reads: datetime.now().timestamp() is time.time()) and latency: the
            # same keys in the same order, so the same bytes as serialize_metric_set and
            # json.dumps give (an int as str(), a finite float as repr()). One write of the
            # line and its newline (print writes twice).
            head, middle, tail = line
            timestamp = str(int(time.time() * 1000))
            sys.stdout.write(head + timestamp + middle + repr(float(latency_ms)) + tail)

    def _line(
        self, operation: str, answer: str, cold: bool, token_cache_hit: bool | None
    ) -> tuple[str, str, str]:
        """One key's JSON line (and its newline) as the pieces before the timestamp, between
        it and the latency, and after the latency (:func:`_line_pieces`)."""
        values = {
            LATENCY: 0.0,
            CLIENT_ERRORS: 1.0 if answer == "4xx" else 0.0,
            SERVER_ERRORS: 1.0 if answer == "5xx" else 0.0,
            COLD_START: 1.0 if cold else 0.0,
        }
        if token_cache_hit is not None:
            values[TOKEN_CACHE_HIT] = 1.0 if token_cache_hit else 0.0
        return _line_pieces(self._serialized(operation, answer, values))

    def _serialized(self, operation: str, answer: str, values: dict[str, float]) -> dict[str, Any]:
        """Powertools' serialised record of one request (its dimensions and metric set)."""
        metrics = self._metrics
        metrics.add_dimension(OPERATION_DIMENSION, operation)
        metrics.add_dimension(STATUS_CLASS_DIMENSION, answer)
        metrics.add_dimensions(**{OPERATION_DIMENSION: operation})
        try:
            # The metric set add_metric would have built (validated in __init__), handed to
            # Powertools' serializer in one call.
            record = metrics.serialize_metric_set(
                metrics={
                    name: {"Unit": METRIC_UNITS[name], "StorageResolution": 60, "Value": [v]}
                    for name, v in values.items()
                }
            )
        finally:
            metrics.clear_metrics()
        return dict(record)

    def restarted(self) -> None:
        """The next request is a cold start again (a SnapStart restore)."""
        with self._lock:
            self._cold = True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Write nothing meanwhile (SnapStart priming: its requests are not traffic)."""
        with self._lock:
            self._paused = True
        try:
            yield
        finally:
            with self._lock:
                self._paused = False
