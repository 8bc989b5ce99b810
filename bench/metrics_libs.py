"""EMF libraries side by side: Powertools Metrics, aws-embedded-metrics and plain json.dumps.

``python -m bench.metrics_libs [--rounds N] [--warm N]`` runs each library in fresh processes
(bench/metrics_child.py), interleaved: every round runs each library once in each mode, in a
shuffled order, after one discarded round that warms the page cache and ``__pycache__``.
Prints a Markdown table of medians (docs/metrics.md holds the last one and the choice made).
The Lambda environment variables are set, so the libraries take their Lambda code paths.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
CHILD: Final = ROOT / "bench" / "metrics_child.py"
LIBRARIES: Final = ("powertools", "aws-embedded-metrics", "json")
MODES: Final = ("app", "bare")
LAMBDA_ENV: Final = {
    "AWS_LAMBDA_FUNCTION_NAME": "currency-api-bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "1",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[1]bench",
    "AWS_REGION": "us-east-1",
}


def run_child(library: str, mode: str, warm: int) -> dict[str, Any]:
    """One fresh process; its JSON line (stderr)."""
    with open(os.devnull, "w") as sink:
        done = subprocess.run(
            [sys.executable, str(CHILD), library, mode, str(warm)],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **LAMBDA_ENV},
            check=True,
            timeout=120,
        )
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def measure(rounds: int, warm: int, seed: int = 13) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """``rounds`` interleaved runs of every (library, mode), after one discarded round."""
    shuffle = random.Random(seed)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {
        (library, mode): [] for library in LIBRARIES for mode in MODES
    }
    pairs = list(runs)
    for round_number in range(rounds + 1):
        shuffle.shuffle(pairs)
        for library, mode in pairs:
            result = run_child(library, mode, warm)
            if round_number:
                runs[(library, mode)].append(result)
    return runs


def table(runs: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    """Medians as Markdown: import (on top of the app, and bare), first record, warm record."""

    def median(library: str, mode: str, key: str) -> float:
        return statistics.median(float(run[key]) for run in runs[(library, mode)])

    floor = median("json", "app", "warm_us")
    lines = [
        "| library | import on top of the app, ms | import bare, ms | modules added | "
        "first record, ms | warm record, µs | warm ÷ json.dumps |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for library in LIBRARIES:
        warm = median(library, "app", "warm_us")
        added = statistics.median(int(run["modules_added"]) for run in runs[(library, "app")])
        lines.append(
            f"| {library} | {median(library, 'app', 'import_ms'):.1f} | "
            f"{median(library, 'bare', 'import_ms'):.1f} | {added:.0f} | "
            f"{median(library, 'app', 'first_ms'):.2f} | {warm:.1f} | {warm / floor:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="measured rounds (default 15)")
    parser.add_argument("--warm", type=int, default=2000, help="warm records per run")
    args = parser.parse_args()
    runs = measure(args.rounds, args.warm)
    print(f"{args.rounds} interleaved rounds, {args.warm} warm records per run, medians\n")
    print(table(runs))


if __name__ == "__main__":
    main()
