"""One SnapStart-shaped run in this fresh process: build one app, prime it as its before-snapshot
hook would, then time the first and the second request of each kind.

Run by bench.snapstart as ``python [-S] bench/snapstart_child.py APP EVENTS_FILE``; prints one
JSON line. What the priming leaves undone, every environment restored from the snapshot pays on
its first requests: that is what "first" measures here (a restore itself cannot be made here).
"""

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any


def _prime(app_name: str, module: Any, priming: list[dict[str, Any]], context: Any) -> None:
    """Ours: its own hook (``LambdaAdapter.before_snapshot``). The peer: the JWKS fetched and
    the same priming requests (``GET /health``, a ``GET`` with a forged token) through its
    handler, as a FastAPI + Mangum function would register them; it has no lazy validators
    to generate (Pydantic builds them at import)."""
    if app_name == "ours":
        module.adapter.before_snapshot()
        return
    module.authenticator.jwks.refresh()
    for event in priming:
        module.handler(event, context)


def main() -> None:
    app_name, events_file = sys.argv[1], sys.argv[2]
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.cold_child import Context

    events: dict[str, list[dict[str, Any]]] = json.loads(Path(events_file).read_text())
    priming = events.pop("prime")
    module = importlib.import_module(f"bench.apps.{app_name}")
    context = Context()
    _prime(app_name, module, priming, context)
    times: dict[str, list[float]] = {}
    statuses: dict[str, list[int]] = {}
    for kind, pair in events.items():
        for event in pair:  # the first request of this kind, then the second
            start = time.perf_counter()
            result = module.handler(event, context)
            times.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
            statuses.setdefault(kind, []).append(result.get("statusCode"))
    print(json.dumps({"app": app_name, "ms": times, "status": statuses}))


if __name__ == "__main__":
    main()
