"""The benchmark scripts run end to end (tiny counts; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_end_to_end_and_prints_every_section(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--packages",
            "venv",
            "--output",
            str(tmp_path / "results.md"),  # outside the repository
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for heading in ("### Targets", "### Cold start", "### Warm invocations", "### Servers"):
        assert heading in done.stdout
    assert "-X importtime" in done.stdout
    assert "is connexion itself and what was imported while one of its modules" in done.stdout
    assert "Cold start <= 0.90x: the larger of the two wall ratios is" in done.stdout
    assert "| ours | 16 |" in done.stdout
    assert "| peer | 16 |" in done.stdout
    written = (tmp_path / "results.md").read_text()
    assert "## This run" in written
    assert "### Token verification alone" in written
    assert "layer by layer" in written
    assert "### After a SnapStart restore: the first request of each kind" in written
    assert "A miss, step by step" in written
    assert "the least a miss costs with PyJWT verifying and the cache kept" in written
    assert "| ours with all of them off, vs the peer |" in written
