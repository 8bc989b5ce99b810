"""getHealth: liveness, public."""

from __future__ import annotations

from typing import Any


async def get_health() -> tuple[dict[str, Any], int, dict[str, str]]:
    """200 ``{"status": "ok"}``; touches no dependency, so it answers while DynamoDB is down."""
    return {"status": "ok"}, 200, {"Content-Type": "application/json"}
