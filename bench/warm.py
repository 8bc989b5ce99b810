"""Warm invocations: authenticated GET, POST and PATCH v2.0 events through each Lambda handler.

All apps live in this one process (each built from the same environment, on its own memory
store). GET, POST and PATCH send one token again and again (a caller's session: the verified
token cache hits); "GET, new token" sends a token never seen before on every invocation (the
full verification path). After a warm-up, rounds run every (app, operation) pair in a
shuffled order, a batch of invocations each, and every invocation is timed alone; between
batches (untimed) the garbage collector runs and the currencies a POST batch created are
discarded.
"""

from __future__ import annotations

import gc
import importlib
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

from bench.common import (
    JwksServer,
    LambdaContext,
    SigningKey,
    codes,
    get_event,
    lambda_env,
    patch_event,
    post_event,
)

OPERATIONS: Final = ("GET", "POST", "PATCH", "GET_NEW_TOKEN")
LABELS: Final = {"GET": "GET", "POST": "POST", "PATCH": "PATCH", "GET_NEW_TOKEN": "GET, new token"}
EXPECTED: Final = {"GET": 200, "POST": 201, "PATCH": 200, "GET_NEW_TOKEN": 200}


@dataclass
class WarmResult:
    """Per-invocation times in microseconds, by operation: wall clock and this thread's CPU."""

    app: str
    wall: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    #: Invocations per batch: one batch per operation per round, appended in round order.
    batch: int = 1

    def paired_ratio(self, other: WarmResult, operation: str, clock: str = "wall") -> float:
        """The median over rounds of this app's batch median over ``other``'s in the same
        round: the two batches ran close together, so a burst of load on this shared
        machine moves both (the ratio of the overall medians can move by 10 % with it)."""
        mine = self.wall if clock == "wall" else self.cpu
        theirs = other.wall if clock == "wall" else other.cpu
        size = self.batch
        ratios = [
            statistics.median(mine[operation][start : start + size])
            / statistics.median(theirs[operation][start : start + size])
            for start in range(0, min(len(mine[operation]), len(theirs[operation])), size)
        ]
        return statistics.median(ratios)

    def median(self, operation: str, clock: str = "wall") -> float:
        samples = self.wall if clock == "wall" else self.cpu
        return statistics.median(samples[operation])

    def iqr(self, operation: str, clock: str = "wall") -> tuple[float, float]:
        samples = self.wall if clock == "wall" else self.cpu
        q1, _, q3 = statistics.quantiles(samples[operation], n=4, method="inclusive")
        return q1, q3

    def count(self, operation: str) -> int:
        return len(self.wall[operation])


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _batch(
    handler: Callable[..., dict[str, Any]], events: Sequence[dict[str, Any]]
) -> tuple[list[float], list[float], list[Any]]:
    context = LambdaContext()
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    walls: list[float] = []
    cpus: list[float] = []
    statuses: list[Any] = []
    for event in events:
        start_cpu, start = cpu(), wall()
        result = handler(event, context)
        end, end_cpu = wall(), cpu()
        walls.append((end - start) / 1000)
        cpus.append((end_cpu - start_cpu) / 1000)
        statuses.append(result["statusCode"])
    return walls, cpus, statuses


def measure(
    apps: Sequence[str],
    rounds: int,
    batch: int,
    warmup: int,
    progress: Callable[[str], None] = lambda _msg: None,
    seed: int | None = None,
    then: Callable[[Mapping[str, ModuleType], str], None] | None = None,
) -> dict[str, WarmResult]:
    """``rounds`` x ``batch`` timed invocations per app and operation, after ``warmup`` each;
    then ``then(modules, token)`` while the apps, their JWKS and the token are still live.

    Raises:
        RuntimeError: an invocation answered another status than the operation's success.
    """
    key = SigningKey()
    token = key.access_token()
    shuffle = random.Random(seed)
    pool = codes(batch * 2)
    # Ours writes one EMF record per request to stdout, as deployed (bench.common.lambda_env);
    # on Lambda stdout goes to CloudWatch Logs, here to /dev/null, not into the report.
    with (
        JwksServer(key.jwks) as jwks,
        environment(lambda_env(jwks.url)),
        open(os.devnull, "w") as sink,
        redirect_stdout(sink),
    ):
        modules = {app: importlib.import_module(f"bench.apps.{app}") for app in apps}
        fixed = {"GET": [get_event(token)] * batch, "PATCH": [patch_event(token)] * batch}
        posts = [post_event(token, code) for code in pool[:batch]]
        # One new token per timed invocation of each app (signing is not timed).
        fresh = {
            app: iter(
                [
                    get_event(key.access_token(username=f"bench-{app}-{i}"))
                    for i in range((rounds + max(1, warmup // batch)) * batch)
                ]
            )
            for app in apps
        }

        def run(app: str, operation: str) -> tuple[list[float], list[float]]:
            module = modules[app]
            if operation == "GET_NEW_TOKEN":
                events = [next(fresh[app]) for _ in range(batch)]
            else:
                events = posts if operation == "POST" else fixed[operation]
            gc.collect()
            walls, cpus, statuses = _batch(module.handler, events)
            if operation == "POST":
                for code in pool[:batch]:
                    module.store.discard(code)
            wrong = [s for s in statuses if s != EXPECTED[operation]]
            if wrong:
                raise RuntimeError(f"{app} {operation} answered {wrong[0]}")
            return walls, cpus

        for app in apps:
            for operation in OPERATIONS:
                for _ in range(max(1, warmup // batch)):
                    run(app, operation)
        results = {app: WarmResult(app, batch=batch) for app in apps}
        pairs = [(app, operation) for app in apps for operation in OPERATIONS]
        for round_number in range(rounds):
            shuffle.shuffle(pairs)
            for app, operation in pairs:
                walls, cpus = run(app, operation)
                results[app].wall[operation].extend(walls)
                results[app].cpu[operation].extend(cpus)
            progress(f"warm round {round_number + 1}/{rounds}")
        if then is not None:
            then(modules, token)
    return results
