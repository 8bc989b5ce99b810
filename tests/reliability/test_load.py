"""A short run of the load benchmark (bench/load.py): separate emulator and server processes,
a mixed workload at concurrency 32. Asserts correctness, not speed: zero 5xx, zero transport
errors, every request in the access log, bounded RSS growth."""

from __future__ import annotations

from bench.load import RSS_BOUND_MIB, run


def test_a_short_mixed_load_gives_no_5xx_and_bounded_memory_growth() -> None:
    report = run(requests=300, concurrency=32)

    assert report.server_errors == 0, report.statuses
    assert not report.errors, report.errors
    assert sum(report.statuses.values()) == 300
    assert set(report.statuses) <= {200, 201, 204, 404, 409, 412}
    assert report.rss_growth_mib <= RSS_BOUND_MIB
