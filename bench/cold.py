"""Cold starts: each app imported, built and asked its first authenticated GET in fresh processes.

Runs are interleaved (every round runs each app once, in a shuffled order) so that the machine's
drift hits every app alike. One discarded round first warms the page cache and ``__pycache__``.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.common import JwksServer, SigningKey, get_event, lambda_env

ROOT: Final = Path(__file__).resolve().parent.parent
CHILD: Final = ROOT / "bench" / "cold_child.py"

#: Where the third-party packages come from: a Lambda-shaped folder per app, or the dev venv.
Packages = Mapping[str, Path] | None


@dataclass
class ColdResult:
    """Every run of one app; times in milliseconds, memory in MiB."""

    app: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    def values(self, key: str) -> list[float]:
        return [float(run[key]) for run in self.runs]

    def median(self, key: str) -> float:
        return statistics.median(self.values(key))

    def paired_ratio(self, reference: ColdResult, key: str) -> float:
        """The median over rounds of this app's ``key`` divided by ``reference``'s in the same
        round. Each round runs every app once, close together in time, so the machine's drift
        (other engineers' load) cancels in each quotient, which a ratio of medians does not.
        """
        pairs = zip(self.values(key), reference.values(key), strict=True)
        return statistics.median(mine / theirs for mine, theirs in pairs)

    def iqr(self, key: str) -> tuple[float, float]:
        """The first and third quartiles."""
        values = self.values(key)
        if len(values) < 2:
            return values[0], values[0]
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return q1, q3


def package_of(app: str) -> str:
    """The package folder an app module runs on: ``ours_variant`` runs on ``ours``."""
    return app.partition("_")[0]


def child_command(
    app: str, event_file: Path, packages: Packages, *extra: str, child: Path = CHILD
) -> list[str]:
    """The command of one run of ``child``; with packages, ``-S`` keeps the venv off the path."""
    flags = ["-S"] if packages is not None else []
    return [sys.executable, *flags, *extra, str(child), app, str(event_file)]


def run_child(command: Sequence[str], env: Mapping[str, str], what: str) -> dict[str, Any]:
    """Run one child process; the JSON report it printed last.

    Raises:
        RuntimeError: the process failed (``what`` names the run, with its stderr's end).
    """
    done = subprocess.run(
        list(command), env=dict(env), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def child_env(app: str, jwks_url: str, packages: Packages) -> dict[str, str]:
    env = {**os.environ, **lambda_env(jwks_url), "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("PYTHONPATH", None)
    if packages is not None:
        env["PYTHONPATH"] = str(packages[package_of(app)])
    return env


def run_once(app: str, event_file: Path, jwks_url: str, packages: Packages) -> dict[str, Any]:
    """One fresh process; its JSON report.

    Raises:
        RuntimeError: the process failed or the first request was not a 200.
    """
    report = run_child(
        child_command(app, event_file, packages),
        child_env(app, jwks_url, packages),
        f"cold run of {app}",
    )
    if report["status"] != 200:
        raise RuntimeError(f"cold run of {app}: first GET answered {report['status']}")
    return report


def measure(
    apps: Sequence[str],
    runs: int,
    packages: Packages,
    progress: Callable[[str], None] = lambda _msg: None,
    seed: int | None = None,
    warm_up: bool = True,
) -> dict[str, ColdResult]:
    """``runs`` interleaved cold starts of every app (after one discarded warm-up round)."""
    key = SigningKey()
    order = list(apps)
    shuffle = random.Random(seed)
    results = {app: ColdResult(app) for app in apps}
    with JwksServer(key.jwks) as jwks, tempfile.TemporaryDirectory() as tmp:
        event_file = Path(tmp) / "event.json"
        event_file.write_text(json.dumps(get_event(key.access_token())))
        for app in order if warm_up else ():
            run_once(app, event_file, jwks.url, packages)
        for round_number in range(runs):
            shuffle.shuffle(order)
            for app in order:
                results[app].runs.append(run_once(app, event_file, jwks.url, packages))
            progress(f"cold round {round_number + 1}/{runs}")
    return results


@dataclass(frozen=True)
class ImportTimes:
    """``python -X importtime`` of one app's cold starts, in milliseconds (medians over runs).

    ``packages``: per top-level package, the time spent in its own modules. ``through``: per
    top-level package, the part of that time spent in modules that a module of
    :data:`IMPORTER` imported, directly or through other modules (its own modules included),
    so what an unconditional import chain of that package costs can be told apart.
    """

    packages: dict[str, float]
    through: dict[str, float]


#: The package whose import chain :class:`ImportTimes` follows: the framework ours adds.
IMPORTER: Final = "connexion"


def _self_times(report: str, importer: str) -> tuple[dict[str, float], dict[str, float]]:
    """Per top-level package, the self time of its modules in one -X importtime ``report``,
    all of it and the part imported under a module of ``importer`` (milliseconds).

    -X importtime prints a module after the modules it imported, each indented two spaces
    deeper than its importer (Python docs, "-X importtime"); read bottom-up, every module
    follows its importer, so a stack of the open importers gives each module's chain.
    """
    totals: dict[str, float] = {}
    through: dict[str, float] = {}
    chain: list[tuple[int, str]] = []
    for line in reversed(report.splitlines()):
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|")
        depth = len(name) - len(name.lstrip())
        module = name.strip()
        while chain and chain[-1][0] >= depth:
            chain.pop()
        chain.append((depth, module))
        package = module.partition(".")[0]
        ms = int(self_us) / 1000
        totals[package] = totals.get(package, 0.0) + ms
        if any(outer.partition(".")[0] == importer for _depth, outer in chain):
            through[package] = through.get(package, 0.0) + ms
    return totals, through


def importtime(app: str, packages: Packages, runs: int = 3) -> ImportTimes:
    """``python -X importtime`` of ``runs`` cold starts of ``app`` (see :class:`ImportTimes`;
    -X importtime itself adds overhead)."""
    key = SigningKey()
    per_run: list[dict[str, float]] = []
    through_run: list[dict[str, float]] = []
    with JwksServer(key.jwks) as jwks, tempfile.TemporaryDirectory() as tmp:
        event_file = Path(tmp) / "event.json"
        event_file.write_text(json.dumps(get_event(key.access_token())))
        for _ in range(runs):
            done = subprocess.run(
                child_command(app, event_file, packages, "-X", "importtime"),
                env=child_env(app, jwks.url, packages),
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            totals, through = _self_times(done.stderr, IMPORTER)
            per_run.append(totals)
            through_run.append(through)

    def medians(runs_: list[dict[str, float]]) -> dict[str, float]:
        names = set().union(*runs_)
        return {name: statistics.median(run.get(name, 0.0) for run in runs_) for name in names}

    return ImportTimes(medians(per_run), medians(through_run))
