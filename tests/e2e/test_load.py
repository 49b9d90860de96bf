"""A short load run on Postgres with a Redis worker: no server errors, no broken invariants.

The same driver as `bench/load.py` (which runs 200 clients for 30 s by hand)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.load import drive, invariants, set_up
from tests.support.stack import running_stack


def test_mixed_load_keeps_the_invariants(pg_url: str, tmp_path: Path) -> None:
    with running_stack(tmp_path, pg_url) as stack:  # the stack bench/load.py starts too
        server = stack.server
        actors = asyncio.run(set_up(server.url, server.token, images=40))
        report = asyncio.run(drive(server.url, actors, clients=40, seconds=6))
    print("\n".join(report.lines()))
    assert report.server_errors == []
    assert set(report.statuses) == {200}
    assert {"promote", "pending", "approve"} <= set(report.latencies), "the mix ran"
    assert asyncio.run(invariants(pg_url)) == {
        "open requests sharing an (image, target)": 0,
        "users who approved one request twice": 0,
        "requests with more approvals than approvers": 0,
        "promoted without their quorum": 0,
    }
