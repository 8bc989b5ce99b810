"""One EMF library in this fresh process: its import, its first record, then warm records.

Run by bench.metrics_libs as ``python bench/metrics_child.py LIB MODE WARM``; prints one JSON
line on stderr (stdout receives the records, as on Lambda, and is sent to /dev/null).
``MODE`` ``app`` first imports what the Lambda function has loaded before any metric is written
(currency_api.lambda_adapter: Connexion, Starlette, boto3, ...), so the import measured is what
the library adds to our cold start; ``bare`` measures it in an otherwise empty interpreter.

Every library writes the same record: namespace, dimension sets ``[operationId, statusClass]``
and ``[operationId]``, metrics Latency (ms), 4xx, 5xx, ColdStart and TokenCacheHit.
"""

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

NAMESPACE = "CurrencyApi/bench"
Emit = Callable[[str, str, float, int], None]


def powertools() -> Emit:
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    metrics = EphemeralMetrics(namespace=NAMESPACE)

    def emit(operation: str, status_class: str, latency: float, cold: int) -> None:
        metrics.add_dimension("operationId", operation)
        metrics.add_dimension("statusClass", status_class)
        metrics.add_dimensions(operationId=operation)
        metrics.add_metric("Latency", MetricUnit.Milliseconds, latency)
        metrics.add_metric("4xx", MetricUnit.Count, 0)
        metrics.add_metric("5xx", MetricUnit.Count, 0)
        metrics.add_metric("ColdStart", MetricUnit.Count, cold)
        metrics.add_metric("TokenCacheHit", MetricUnit.Count, 1)
        metrics.flush_metrics()

    return emit


def embedded() -> Emit:
    from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger

    def emit(operation: str, status_class: str, latency: float, cold: int) -> None:
        logger = create_metrics_logger()
        logger.set_namespace(NAMESPACE)
        logger.set_dimensions(
            {"operationId": operation, "statusClass": status_class}, {"operationId": operation}
        )
        logger.put_metric("Latency", latency, "Milliseconds")
        logger.put_metric("4xx", 0, "Count")
        logger.put_metric("5xx", 0, "Count")
        logger.put_metric("ColdStart", cold, "Count")
        logger.put_metric("TokenCacheHit", 1, "Count")
        logger.flush_sync()

    return emit


def handwritten() -> Emit:
    """The floor: the same record with json.dumps, no library."""

    def emit(operation: str, status_class: str, latency: float, cold: int) -> None:
        names = ("Latency", "4xx", "5xx", "ColdStart", "TokenCacheHit")
        units = ("Milliseconds", "Count", "Count", "Count", "Count")
        record = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [["operationId", "statusClass"], ["operationId"]],
                        "Metrics": [
                            {"Name": n, "Unit": u} for n, u in zip(names, units, strict=True)
                        ],
                    }
                ],
            },
            "operationId": operation,
            "statusClass": status_class,
            "Latency": latency,
            "4xx": 0,
            "5xx": 0,
            "ColdStart": cold,
            "TokenCacheHit": 1,
        }
        sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")

    return emit


LIBRARIES = {"powertools": powertools, "aws-embedded-metrics": embedded, "json": handwritten}


def main() -> None:
    library, mode, warm = sys.argv[1], sys.argv[2], int(sys.argv[3])
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    if mode == "app":
        import currency_api.lambda_adapter  # noqa: F401  (what the function has loaded)
    before = set(sys.modules)
    start = time.perf_counter()
    emit = LIBRARIES[library]()
    imported = time.perf_counter()
    emit("getCurrency", "2xx", 1.25, 1)
    first = time.perf_counter()
    samples = []
    for index in range(warm):
        began = time.perf_counter_ns()
        emit("getCurrency", "2xx", 1.25 + index % 7, 0)
        samples.append(time.perf_counter_ns() - began)
    sys.stderr.write(
        json.dumps(
            {
                "library": library,
                "mode": mode,
                "import_ms": (imported - start) * 1000,
                "first_ms": (first - imported) * 1000,
                "warm_us": statistics.median(samples) / 1000,
                "modules_added": len(set(sys.modules) - before),
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
