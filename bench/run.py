"""`make bench`: every benchmark, one table, bench/RESULTS.md.

Usage: ``python -m bench.run [--quick] [--packages bundle|venv] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Final

from bench import cold, server, verify, warm
from bench.bundle import bundle

ROOT: Final = Path(__file__).resolve().parent.parent
PEER: Final = "peer"
NAMES: Final = {
    "ours": "ours: Connexion AsyncApp + Mangum",
    "peer": "peer: FastAPI + Mangum",
    "bare": "floor: bare handler",
}
COLD_APPS: Final = ("ours", "peer", "bare")
WARM_APPS: Final = ("ours", "peer", "bare")
VERSIONS: Final = (
    "connexion",
    "fastapi",
    "starlette",
    "pydantic",
    "mangum",
    "boto3",
    "botocore",
    "PyJWT",
    "cryptography",
    "PyYAML",
    "jsonschema",
    "uvicorn",
    "moto",
    "snapshot-restore-py",
)


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def machine() -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split()[1])
        memory = f", {total_kib / 2**20:.0f} GiB RAM"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    versions = []
    for name in VERSIONS:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return [
        f"- Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {platform.machine()}, {cpu}, {os.cpu_count()} CPUs{memory}; "
        f"{platform.system()} {platform.release()}",
        f"- Load average when the run ended (1, 5, 15 min): {load} (the machine is shared)",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- Versions: {', '.join(versions)}",
    ]


def cold_section(results: dict[str, cold.ColdResult], packages: str) -> list[str]:
    peer = results[PEER]
    lines = [
        f"### Cold start: import + build + first authenticated GET ({packages})",
        "",
        "| app | wall ms, median (IQR) | vs peer | CPU ms, median (IQR) | vs peer "
        "| import / build / first ms | peak RSS after init MiB | vs peer | runs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for app, result in results.items():
        q1, q3 = result.iqr("total_ms")
        c1, c3 = result.iqr("cpu_total_ms")
        lines.append(
            f"| {NAMES[app]} | {result.median('total_ms'):.0f} ({q1:.0f}-{q3:.0f}) "
            f"| {_ratio(result.median('total_ms'), peer.median('total_ms'))} "
            f"| {result.median('cpu_total_ms'):.0f} ({c1:.0f}-{c3:.0f}) "
            f"| {_ratio(result.median('cpu_total_ms'), peer.median('cpu_total_ms'))} "
            f"| {result.median('import_ms'):.0f} / {result.median('build_ms'):.0f} / "
            f"{result.median('first_ms'):.0f} "
            f"| {result.median('rss_init_mib'):.1f} "
            f"| {_ratio(result.median('rss_init_mib'), peer.median('rss_init_mib'))} "
            f"| {len(result.runs)} |"
        )
    return lines


def warm_section(results: dict[str, warm.WarmResult]) -> list[str]:
    peer = results[PEER]
    apps = list(results)
    lines = [
        "### Warm invocations: microseconds per authenticated event, median wall (CPU), "
        "ratio to the peer",
        "",
        "| operation | " + " | ".join(NAMES[app] for app in apps) + " | invocations per app |",
        "|---|" + "---|" * len(apps) + "---|",
    ]
    for operation in warm.OPERATIONS:
        cells = []
        for app in apps:
            wall, cpu = results[app].median(operation), results[app].median(operation, "cpu")
            ratio = _ratio(wall, peer.median(operation))
            cells.append(
                f"{wall:.0f} ({cpu:.0f}) {ratio}" if app != PEER else f"{wall:.0f} ({cpu:.0f})"
            )
        lines.append(
            f"| {warm.LABELS[operation]} | {' | '.join(cells)} | {peer.count(operation)} |"
        )
    return lines


def server_section(results: dict[int, server.Throughput], delay_ms: float) -> list[str]:
    lines = [
        f"### Local server: our uvicorn app, DynamoDB (moto) behind a {delay_ms:.0f} ms delay",
        "",
        "| clients | requests/s | median latency ms | CPU ms per request: api / emulator / "
        "proxy / clients | requests |",
        "|---|---|---|---|---|",
    ]
    for clients, result in results.items():
        cpu = result.cpu_ms_per_request
        lines.append(
            f"| {clients} | {result.per_second:.1f} | {result.median_ms:.1f} "
            f"| {cpu.get('api', 0):.2f} / {cpu.get('emulator', 0):.2f} / "
            f"{cpu.get('proxy', 0):.2f} / {cpu.get('clients', 0):.2f} | {result.requests} |"
        )
    counts = sorted(results)
    if len(counts) > 1:
        low, high = results[counts[0]], results[counts[-1]]
        lines += [
            "",
            f"Throughput at {high.clients} clients is {high.per_second / low.per_second:.1f}x "
            f"the throughput at {low.clients}; calls made one at a time could not exceed "
            f"{1000 / delay_ms:.0f} requests/s.",
        ]
    return lines


def targets(
    cold_results: dict[str, cold.ColdResult],
    warm_results: dict[str, warm.WarmResult],
    server_results: dict[int, server.Throughput],
) -> list[str]:
    ours, peer = cold_results["ours"], cold_results[PEER]
    wall = ours.median("total_ms") / peer.median("total_ms")
    cpu = ours.median("cpu_total_ms") / peer.median("cpu_total_ms")
    rss = ours.median("rss_init_mib") / peer.median("rss_init_mib")
    rows = [
        ("Cold start <= 0.90x peer (wall)", f"{wall:.2f}x", wall <= 0.9),
        ("Cold start <= 0.90x peer (CPU)", f"{cpu:.2f}x", cpu <= 0.9),
        ("Peak RSS after init <= 1.00x peer", f"{rss:.3f}x", rss <= 1.0),
    ]
    for operation in warm.OPERATIONS:
        ratio = warm_results["ours"].median(operation) / warm_results[PEER].median(operation)
        rows.append((f"Warm {warm.LABELS[operation]} <= 1.00x peer", f"{ratio:.2f}x", ratio <= 1.0))
    counts = sorted(server_results)
    if len(counts) > 1:
        scale = server_results[counts[-1]].per_second / server_results[counts[0]].per_second
        rows.append(
            (f"Server: {counts[-1]} clients >= 8x of {counts[0]}", f"{scale:.1f}x", scale >= 8)
        )
    lines = ["### Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in rows]
    return lines


def importtime_section(total: float, top: list[tuple[str, float]], packages: str) -> list[str]:
    lines = [
        f"### `python -X importtime` of our cold start ({packages}): top {len(top)} packages",
        "",
        f"Total import time {total:.0f} ms (-X importtime adds its own overhead); time spent in "
        "each top-level package's own modules:",
        "",
        "| package | ms |",
        "|---|---|",
    ]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in top]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    parser.add_argument("--packages", choices=["bundle", "venv"], default="bundle")
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument("--warm-rounds", type=int, default=20)
    parser.add_argument("--warm-batch", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--server-seconds", type=float, default=5.0)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the results (default bench/RESULTS.md; --quick writes only here)",
    )
    parser.add_argument("--token-rounds", type=int, default=20)
    args = parser.parse_args(argv)
    if args.quick:
        args.cold_runs, args.warm_rounds, args.warm_batch, args.warmup = 1, 1, 3, 3
        args.server_seconds = 0.2
        args.token_rounds = 1

    def progress(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    packages: cold.Packages = None
    label = "dev venv"
    if args.packages == "bundle":
        packages = {app: bundle(app) for app in ("ours", "peer", "bare")}
        label = "Lambda-shaped packages"
    cold_results = cold.measure(
        COLD_APPS, args.cold_runs, packages, progress, warm_up=not args.quick
    )
    total, top = cold.importtime("ours", packages)
    warm_results = warm.measure(WARM_APPS, args.warm_rounds, args.warm_batch, args.warmup, progress)
    token_result = verify.measure(args.token_rounds, args.warm_batch, progress)
    progress("local server")
    server_results = server.measure(args.delay_ms, args.server_seconds)

    body = [
        *targets(cold_results, warm_results, server_results),
        "",
        *cold_section(cold_results, label),
        "",
        *warm_section(warm_results),
        "",
        *verify.section(token_result),
        "",
        *server_section(server_results, args.delay_ms),
        "",
        *importtime_section(total, top, label),
    ]
    print("\n".join(body))
    output = args.output or (None if args.quick else ROOT / "bench" / "RESULTS.md")
    if output is not None:
        _write(output, body)
        progress(f"wrote {output}")
    return 0


def _write(path: Path, body: list[str]) -> None:
    intro = (ROOT / "bench" / "RESULTS.intro.md").read_text().rstrip()
    commit = _git(["git", "rev-parse", "--short", "HEAD"])
    text = [
        intro,
        "",
        "## This run",
        "",
        *machine(),
        f"- Commit: {commit or 'unknown'}",
        "",
        *body,
        "",
    ]
    path.write_text("\n".join(text))


def _git(
    args: list[str], run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
) -> str:
    try:
        return run(args, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


if __name__ == "__main__":
    raise SystemExit(main())
