"""After a SnapStart restore: the first request of each kind, ours against the peer.

Each run is a fresh process (a Lambda-shaped package, as bench.cold runs it) that builds one app
and primes it as its before-snapshot hook would (bench/snapstart_child.py), then sends a GET, a
POST and a PATCH twice each. Whatever the priming left lazy is paid by the first of a kind: that
is the extra latency every restored environment adds to its first requests. Runs are
interleaved, apps in a shuffled order per round.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from bench import cold
from bench.common import JwksServer, SigningKey, get_event, patch_event, post_event
from currency_api.lambda_adapter import PRIMING_CODE, priming_event, unverifiable_token

CHILD: Final = Path(__file__).resolve().parent / "snapstart_child.py"
KINDS: Final = ("GET", "POST", "PATCH")
EXPECTED: Final = {"GET": 200, "POST": 201, "PATCH": 200}

#: Per app, per kind: the first and second request's milliseconds of every run.
Timings = dict[str, dict[str, list[tuple[float, float]]]]


def measure(
    apps: Sequence[str],
    runs: int,
    packages: cold.Packages,
    progress: Callable[[str], None] = lambda _msg: None,
    seed: int | None = None,
) -> Timings:
    """``runs`` interleaved primed processes of every app.

    Raises:
        RuntimeError: a process failed or a request was not answered as expected.
    """
    key = SigningKey()
    token = key.access_token()
    events = {
        # The very priming requests ours' hook sends (LambdaAdapter.before_snapshot).
        "prime": [
            priming_event("/health"),
            priming_event(f"/currencies/{PRIMING_CODE}", unverifiable_token(key.kid)),
        ],
        "GET": [get_event(token)] * 2,
        "POST": [post_event(token, "XQA"), post_event(token, "XQB")],
        "PATCH": [patch_event(token)] * 2,
    }
    order = list(apps)
    shuffle = random.Random(seed)
    timings: Timings = {app: {kind: [] for kind in KINDS} for app in apps}
    with JwksServer(key.jwks) as jwks, tempfile.TemporaryDirectory() as tmp:
        events_file = Path(tmp) / "events.json"
        events_file.write_text(json.dumps(events))
        for number in range(runs):
            shuffle.shuffle(order)
            for app in order:
                report = _run_once(app, events_file, jwks.url, packages)
                for kind in KINDS:
                    first, second = report["ms"][kind]
                    timings[app][kind].append((first, second))
            progress(f"SnapStart round {number + 1}/{runs}")
    return timings


def _run_once(app: str, events_file: Path, jwks_url: str, packages: cold.Packages) -> Any:
    report = cold.run_child(
        cold.child_command(app, events_file, packages, child=CHILD),
        cold.child_env(app, jwks_url, packages),
        f"SnapStart run of {app}",
    )
    for kind in KINDS:
        if report["status"][kind] != [EXPECTED[kind]] * 2:
            raise RuntimeError(f"SnapStart run of {app}: {kind} answered {report['status'][kind]}")
    return report


def section(timings: Timings, names: Mapping[str, str], peer: str = "peer") -> list[str]:
    """The RESULTS.md section: per kind, the first and second request's medians."""
    runs = len(next(iter(next(iter(timings.values())).values())))
    lines = [
        "### After a SnapStart restore: the first request of each kind (primed before the "
        "snapshot)",
        "",
        f"Milliseconds, median of {runs} fresh processes per app, each primed as its "
        "before-snapshot hook would (ours: its own hook; the peer: the same priming requests), "
        "then a GET, a POST and a PATCH sent twice each. The first of a kind pays what the "
        "priming left lazy.",
        "",
        "| app | " + " | ".join(f"{kind} first / second" for kind in KINDS) + " |",
        "|---|" + "---|" * len(KINDS),
    ]
    for app, kinds in timings.items():
        cells = []
        for kind in KINDS:
            first = statistics.median(pair[0] for pair in kinds[kind])
            second = statistics.median(pair[1] for pair in kinds[kind])
            cells.append(f"{first:.2f} / {second:.2f}")
        lines.append(f"| {names.get(app, app)} | " + " | ".join(cells) + " |")
    if peer in timings and "ours" in timings:
        ratios = []
        for kind in KINDS:
            ours = statistics.median(pair[0] for pair in timings["ours"][kind])
            theirs = statistics.median(pair[0] for pair in timings[peer][kind])
            ratios.append(f"{kind} {ours / theirs:.2f}x")
        lines += [
            "",
            "The first request of each kind, ours against the peer: " + ", ".join(ratios) + ".",
        ]
    return lines
