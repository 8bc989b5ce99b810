"""What ours does that the peer does not, and what each costs: an ablation in the warm run.

The peer (bench/apps/peer.py) answers the same operations but leaves out behaviour of ours:
the CloudWatch EMF record per request, the screening of the Lambda event, the input bounds,
the request guard, and the strict JSON parsing (duplicate members, lone surrogates) with NFC
normalisation of request bodies. Each is switched off in turn in the live app of the warm run
(its function replaced by one that passes everything, for one batch only, then put back), so
the same process, the same token and the same interleaving give the cost of each in
microseconds, and the ratio to the peer of ours doing only what the peer does.

This is measurement only: it shows what is left of ours against the peer, not a configuration
anyone should run (bench/RESULTS.md reads it as "the profile that proves what is left").

Rounds run every variant of every operation once, in a shuffled order, a batch of
invocations each (each timed alone, wall clock); a variant's cost is the median over rounds
of its batch median minus the unchanged app's batch median in the same round.
"""

from __future__ import annotations

import gc
import json
import pkgutil
import random
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

from bench.common import LambdaContext, codes, get_event, patch_event, post_event

OPERATIONS: Final = ("GET", "POST", "PATCH")
EXPECTED: Final = {"GET": 200, "POST": 201, "PATCH": 200}

#: ("module:object" owning the attribute, the attribute, a factory of its replacement).
Switch = tuple[str, str, Callable[[], Any]]


def _switches() -> dict[str, list[Switch]]:
    """The peer-lacking behaviours of ours, each as the attributes that switch it off."""

    def record(self: Any, **_kwargs: Any) -> None:
        return None

    def no_refusal(self: Any, _scope: Any) -> None:
        return None

    def plain_json(raw: bytes) -> Any:
        return json.loads(raw) if raw else None

    def as_given(data: Any, pointer: str = "") -> Any:
        return data

    return {
        "EMF record (metrics)": [
            ("currency_api.metrics:RequestMetrics", "record", lambda: record),
        ],
        "event screening": [
            ("currency_api.lambda_adapter:lambda_events", "screen", lambda: lambda event: event),
        ],
        "input bounds": [
            ("currency_api.edge:InputBounds", "refusal", lambda: no_refusal),
        ],
        "request guard": [
            ("currency_api.edge:RequestGuard", "refusal", lambda: no_refusal),
        ],
        "strict JSON and NFC of bodies": [
            ("currency_api.guards", "parse_json", lambda: plain_json),
            ("currency_api.guards", "normalized", lambda: as_given),
        ],
    }


@contextmanager
def _switched_off(switches: Sequence[Switch]) -> Iterator[None]:
    """The behaviours' attributes replaced while the block runs, then put back."""
    with ExitStack() as stack:
        for path, attribute, replacement in switches:
            owner = pkgutil.resolve_name(path)
            saved = owner.__dict__[attribute] if attribute in vars(owner) else None
            setattr(owner, attribute, replacement())
            if saved is None:
                stack.callback(delattr, owner, attribute)
            else:
                stack.callback(setattr, owner, attribute, saved)
        yield


@dataclass
class AblationResult:
    """Per operation and variant: the batch medians (µs) of every round, in round order."""

    batches: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def cost(self, operation: str, variant: str) -> float:
        """Median over rounds of (the unchanged app - the variant): what the behaviour costs."""
        base = self.batches[operation]["ours"]
        other = self.batches[operation][variant]
        return statistics.median(b - v for b, v in zip(base, other, strict=True))

    def ratio(self, operation: str, variant: str) -> float:
        """Median over rounds of the variant's batch median over the peer's."""
        peer = self.batches[operation]["peer"]
        mine = self.batches[operation][variant]
        return statistics.median(m / p for m, p in zip(mine, peer, strict=True))


ALL_OFF: Final = "all of them off"


def measure(
    modules: Mapping[str, ModuleType], token: str, rounds: int, batch: int
) -> AblationResult:
    """``rounds`` x ``batch`` timed invocations of ours, each behaviour off, all off, and the
    peer, per operation.

    Raises:
        RuntimeError: an invocation answered another status than the operation's success.
    """
    ours, peer = modules["ours"], modules["peer"]
    switches = _switches()
    variants: dict[str, list[Switch]] = {
        "ours": [],
        **switches,
        ALL_OFF: [s for group in switches.values() for s in group],
    }
    pool = codes(batch)
    events: dict[str, list[dict[str, Any]]] = {
        "GET": [get_event(token)] * batch,
        "POST": [post_event(token, code) for code in pool],
        "PATCH": [patch_event(token)] * batch,
    }
    context = LambdaContext()
    wall = time.perf_counter_ns
    shuffle = random.Random(7)
    result = AblationResult({op: {v: [] for v in [*variants, "peer"]} for op in OPERATIONS})
    pairs = [(op, v) for op in OPERATIONS for v in [*variants, "peer"]]
    for _ in range(rounds):
        shuffle.shuffle(pairs)
        for operation, variant in pairs:
            module = peer if variant == "peer" else ours
            with _switched_off(variants.get(variant, [])):
                gc.collect()
                times: list[float] = []
                for event in events[operation]:
                    start = wall()
                    answer = module.handler(event, context)
                    times.append((wall() - start) / 1000)
                    if answer["statusCode"] != EXPECTED[operation]:
                        raise RuntimeError(f"{variant} {operation} answered {answer['statusCode']}")
            if operation == "POST":
                for code in pool:
                    module.store.discard(code)
            result.batches[operation][variant].append(statistics.median(times))
    return result


def section(result: AblationResult, rounds: int, batch: int) -> list[str]:
    """The RESULTS.md table: each behaviour's cost, and ours doing only what the peer does."""
    lines = [
        "### What ours does that the peer does not: each behaviour switched off in turn",
        "",
        f"Microseconds saved per warm invocation with the behaviour off (median over {rounds} "
        f"interleaved rounds of {batch} of the difference to the unchanged app in the same "
        "round; within a few microseconds of noise), and the per-round ratio to the peer.",
        "",
        "| behaviour of ours | " + " | ".join(OPERATIONS) + " |",
        "|---|" + "---|" * len(OPERATIONS),
    ]
    variants = [v for v in next(iter(result.batches.values())) if v not in ("ours", "peer")]
    for variant in variants:
        if variant == ALL_OFF:
            continue
        cells = [f"{result.cost(op, variant):.0f}" for op in OPERATIONS]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    cells = [f"{result.cost(op, ALL_OFF):.0f}" for op in OPERATIONS]
    lines.append(f"| {ALL_OFF} | " + " | ".join(cells) + " |")
    cells = [f"{result.ratio(op, 'ours'):.2f}x" for op in OPERATIONS]
    lines.append("| ours as deployed, vs the peer | " + " | ".join(cells) + " |")
    cells = [f"{result.ratio(op, ALL_OFF):.2f}x" for op in OPERATIONS]
    lines.append(f"| ours with {ALL_OFF}, vs the peer | " + " | ".join(cells) + " |")
    return lines
