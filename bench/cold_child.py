"""One cold start in this fresh process: import + build one app, then its first request.

Run by bench.cold as ``python [-S] bench/cold_child.py APP EVENT_FILE``; prints one JSON line.
Only the standard library is imported before the clock starts, like a Lambda runtime that has
loaded nothing of the function yet. The repository root goes on ``sys.path`` (the function
code); third-party packages come from the environment's path (the venv or a bundle).
"""

import importlib
import json
import resource
import sys
import time
from pathlib import Path


class Context:
    """The attributes of the Lambda context object that Mangum and loggers read."""

    function_name = "currency-api-bench"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:currency-api-bench"
    memory_limit_in_mb = 1024
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name = "/aws/lambda/currency-api-bench"
    log_stream_name = "2026/01/01/[1]bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _rss_mib() -> float:
    # ru_maxrss is the peak resident set size, in KiB on Linux (getrusage(2)).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    app_name, event_file = sys.argv[1], sys.argv[2]
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    event = json.loads(Path(event_file).read_text())
    cpu_start, start = time.process_time(), time.perf_counter()
    module = importlib.import_module(f"bench.apps.{app_name}")
    cpu_ready, ready = time.process_time(), time.perf_counter()
    rss_init = _rss_mib()
    result = module.handler(event, Context())
    cpu_done, done = time.process_time(), time.perf_counter()
    print(
        json.dumps(
            {
                "app": app_name,
                "import_ms": (module.IMPORTED_AT - start) * 1000,
                "build_ms": (ready - module.IMPORTED_AT) * 1000,
                "init_ms": (ready - start) * 1000,
                "first_ms": (done - ready) * 1000,
                "total_ms": (done - start) * 1000,
                "cpu_init_ms": (cpu_ready - cpu_start) * 1000,
                "cpu_total_ms": (cpu_done - cpu_start) * 1000,
                "rss_init_mib": rss_init,
                "rss_first_mib": _rss_mib(),
                "status": result.get("statusCode"),
                "modules": sorted({name.partition(".")[0] for name in sys.modules}),
            }
        )
    )


if __name__ == "__main__":
    main()
