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
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Final

from bench import ablation, cold, layers, server, snapstart, verify, warm
from bench.bundle import bundle

ROOT: Final = Path(__file__).resolve().parent.parent
PEER: Final = "peer"
NAMES: Final = {
    "ours": "ours: Connexion AsyncApp + Mangum",
    "peer": "peer: FastAPI + Mangum",
    "bare": "floor: bare handler",
    "ours_stock": "ours with Connexion's stock per-request classes",
}
COLD_APPS: Final = ("ours", "peer", "bare")
WARM_APPS: Final = ("ours", "peer", "bare", "ours_stock")
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
    ours = results["ours"]
    lines += [
        "",
        "Ours against the peer, median of the per-round ratios (each round runs every app once, "
        f"close together): wall {ours.paired_ratio(peer, 'total_ms'):.2f}x, "
        f"CPU {ours.paired_ratio(peer, 'cpu_total_ms'):.2f}x, "
        f"peak RSS {ours.paired_ratio(peer, 'rss_init_mib'):.3f}x.",
    ]
    # The target holds when both ratios do (see targets()): the larger one says how far off.
    ratio = max(
        ours.median("total_ms") / peer.median("total_ms"), ours.paired_ratio(peer, "total_ms")
    )
    short = (1 - 0.9 / ratio) * ours.median("total_ms")
    lines += [
        "",
        f"Cold start <= 0.90x: the larger of the two wall ratios is {ratio:.2f}x; "
        + (
            f"ours would have to start about {short:.0f} ms ({1 - 0.9 / ratio:.0%}) sooner."
            if ratio > 0.9
            else "met."
        ),
    ]
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


def server_section(results: server.ServerResult, delay_ms: float) -> list[str]:
    counts = sorted({clients for _, clients in results.phases})
    lines = [
        f"### Servers on uvicorn: ours and the FastAPI peer, one DynamoDB (moto) behind a "
        f"{delay_ms:.0f} ms delay",
        "",
        "| server | clients | server CPU ms per request | vs peer | requests/s "
        "| median latency ms | requests |",
        "|---|---|---|---|---|---|---|",
    ]
    for app in server.SERVERS:
        for clients in counts:
            cpu = results.median(app, clients, "cpu")
            peer_cpu = results.median(PEER, clients, "cpu")
            lines.append(
                f"| {app} | {clients} | {cpu:.2f} | {_ratio(cpu, peer_cpu)} "
                f"| {results.median(app, clients, 'rps'):.1f} "
                f"| {results.median(app, clients, 'latency'):.1f} "
                f"| {results.requests(app, clients)} |"
            )
    low, high = counts[0], counts[-1]
    scale = results.median("ours", high, "rps") / results.median("ours", low, "rps")
    lines += [
        "",
        f"Ours: throughput at {high} clients is {scale:.1f}x the throughput at {low}; calls "
        f"made one at a time could not exceed {1000 / delay_ms:.0f} requests/s. Medians of "
        "the interleaved phases; the emulator, the delaying proxy and the clients share the "
        "same 2 cores.",
    ]
    return lines


def targets(
    cold_results: dict[str, cold.ColdResult],
    warm_results: dict[str, warm.WarmResult],
    server_results: server.ServerResult,
) -> list[str]:
    ours, peer = cold_results["ours"], cold_results[PEER]
    rows = []
    # Met only if both readings are: the ratio of the medians and the median of the
    # per-round ratios (bench.cold.ColdResult.paired_ratio) differ by several percent here.
    for name, key, target, digits in (
        ("Cold start <= 0.90x peer (wall)", "total_ms", 0.9, 2),
        ("Cold start <= 0.90x peer (CPU)", "cpu_total_ms", 0.9, 2),
        ("Peak RSS after init <= 1.00x peer", "rss_init_mib", 1.0, 3),
    ):
        ratio = ours.median(key) / peer.median(key)
        paired = ours.paired_ratio(peer, key)
        value = f"{ratio:.{digits}f}x (per-round {paired:.{digits}f}x)"
        rows.append((name, value, max(ratio, paired) <= target))
    for operation in warm.OPERATIONS:
        mine, theirs = warm_results["ours"], warm_results[PEER]
        ratio = mine.median(operation) / theirs.median(operation)
        paired = mine.paired_ratio(theirs, operation)
        value = f"{ratio:.2f}x (per-round {paired:.2f}x)"
        rows.append(
            (f"Warm {warm.LABELS[operation]} <= 1.00x peer", value, max(ratio, paired) <= 1.0)
        )
    for clients in sorted({clients for _, clients in server_results.phases}):
        ratio = server_results.median("ours", clients, "cpu") / server_results.median(
            PEER, clients, "cpu"
        )
        rows.append(
            (
                f"Server CPU per request, {clients} clients, <= 1.00x peer",
                f"{ratio:.3f}x",
                ratio <= 1.0,
            )
        )
    lines = ["### Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in rows]
    return lines


def importtime_section(
    ours_times: cold.ImportTimes,
    peer_times: cold.ImportTimes,
    packages: str,
    runs: int,
    top: int = 20,
) -> list[str]:
    """Import time per top-level package, ours beside the peer, and what only one imports;
    of what only ours imports, the part that Connexion's own imports bring in."""
    ours, peer = ours_times.packages, peer_times.packages
    only_ours = {name: ms for name, ms in ours.items() if name not in peer}
    only_peer = {name: ms for name, ms in peer.items() if name not in ours}
    shared = set(ours) & set(peer)
    through = sum(ours_times.through.get(name, 0.0) for name in only_ours)
    biggest = sorted(
        (name for name in only_ours if ours_times.through.get(name, 0.0) >= 1.0),
        key=lambda name: -ours_times.through[name],
    )
    lines = [
        f"### `python -X importtime` of the cold starts ({packages}): ours beside the peer",
        "",
        f"Total import time: ours {sum(ours.values()):.0f} ms, the peer {sum(peer.values()):.0f}"
        f" ms (medians of {runs} runs per package; -X importtime adds its own overhead). "
        f"Imported by both: ours {sum(ours[n] for n in shared):.0f} ms, the peer "
        f"{sum(peer[n] for n in shared):.0f} ms. Only by ours: {sum(only_ours.values()):.0f} ms; "
        f"only by the peer: {sum(only_peer.values()):.0f} ms.",
        "",
        f"Of what only ours imports, {through:.0f} ms is {cold.IMPORTER} itself and what was "
        f"imported while one of its modules was being imported (its unconditional import "
        f"chain), the largest first: {', '.join(biggest[:12]) or 'nothing'}.",
        "",
        f"Time spent in each top-level package's own modules, the {top} largest of either:",
        "",
        "| package | ours ms | peer ms |",
        "|---|---|---|",
    ]
    ranked = sorted(set(ours) | set(peer), key=lambda n: -max(ours.get(n, 0), peer.get(n, 0)))
    for name in ranked[:top]:
        mine = f"{ours[name]:.1f}" if name in ours else "-"
        theirs = f"{peer[name]:.1f}" if name in peer else "-"
        lines.append(f"| {name} | {mine} | {theirs} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    parser.add_argument("--packages", choices=["bundle", "venv"], default="bundle")
    parser.add_argument("--cold-runs", type=int, default=30)
    parser.add_argument("--warm-rounds", type=int, default=15)
    parser.add_argument("--warm-batch", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--server-seconds", type=float, default=4.0)
    parser.add_argument("--server-rounds", type=int, default=5)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the results (default bench/RESULTS.md; --quick writes only here)",
    )
    parser.add_argument("--token-rounds", type=int, default=20)
    parser.add_argument("--layer-gets", type=int, default=2000)
    parser.add_argument("--ablation-rounds", type=int, default=40)
    parser.add_argument("--ablation-batch", type=int, default=40)
    parser.add_argument("--snapstart-runs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.quick:
        args.cold_runs, args.warm_rounds, args.warm_batch, args.warmup = 1, 1, 3, 3
        args.server_seconds, args.server_rounds = 0.2, 1
        args.token_rounds, args.layer_gets = 1, 20
        args.ablation_rounds, args.ablation_batch = 1, 3
        args.snapstart_runs = 1

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
    snapstart_results = snapstart.measure(("ours", PEER), args.snapstart_runs, packages, progress)
    import_runs = 1 if args.quick else 3
    imports = {app: cold.importtime(app, packages, import_runs) for app in ("ours", PEER)}
    shares: dict[str, dict[str, float]] = {}
    ablations: list[ablation.AblationResult] = []

    def after_warm(modules: Mapping[str, ModuleType], token: str) -> None:
        progress("profiling one warm GET per layer")
        shares.update(layers.measure(modules, token, args.layer_gets))
        progress("switching off, in turn, what ours does that the peer does not")
        ablations.append(
            ablation.measure(modules, token, args.ablation_rounds, args.ablation_batch)
        )

    warm_results = warm.measure(
        WARM_APPS, args.warm_rounds, args.warm_batch, args.warmup, progress, then=after_warm
    )
    token_result = verify.measure(args.token_rounds, args.warm_batch, progress)
    progress("local server")
    server_results = server.measure(args.delay_ms, args.server_seconds, rounds=args.server_rounds)

    body = [
        *targets(cold_results, warm_results, server_results),
        "",
        *cold_section(cold_results, label),
        "",
        *snapstart.section(snapstart_results, NAMES),
        "",
        *warm_section(warm_results),
        "",
        *verify.section(token_result),
        "",
        *layers.section(shares, {app: warm_results[app].median("GET") for app in ("ours", PEER)}),
        "",
        *ablation.section(ablations[0], args.ablation_rounds, args.ablation_batch),
        "",
        *server_section(server_results, args.delay_ms),
        "",
        *importtime_section(imports["ours"], imports[PEER], label, import_runs),
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
