"""Run the promotion benchmark: ``.venv/bin/python -m bench.promotion [--smoke|--quick]``.

The parts live beside this file (throughput.py, pending.py, explain.py, auto.py); what
they share, common.py; the processes are the test suite's kit (tests/support/stack.py).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
import time
from datetime import UTC, datetime

import pytest

from bench.promotion import __doc__ as DESCRIPTION
from bench.promotion.auto import auto_promotion
from bench.promotion.common import (
    FULL,
    PARTS,
    QUICK,
    SMOKE,
    Api,
    CpuMeter,
    Sizes,
    World,
    bench_stack,
    database_name,
    heading,
    set_up,
)
from bench.promotion.pending import pending_approvals
from bench.promotion.throughput import throughput

MODES = {id(FULL): "full", id(QUICK): "quick", id(SMOKE): "smoke"}


async def run(
    sizes: Sizes,
    parts: set[str],
    explain: bool,
    analyze_all: bool,
    keep_logs: bool,
    mode: str | None = None,
) -> None:
    started = time.perf_counter()
    print(
        f"hoist promotion benchmark, {mode or MODES[id(sizes)]} mode, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}"
    )
    async with bench_stack(keep_logs) as stack:
        print(f"server {stack.server.url}, database {database_name(stack)}")
        api = Api(stack.server.url)
        assert stack.server.process is not None
        meter = CpuMeter(stack.server.process.pid, stack.worker.pid, stack.database_url)
        await meter.open()
        try:
            async with api.client() as http:
                world = World(api, http, stack.server.token, meter)
                heading("1. set-up through GraphQL")
                setup_started = time.perf_counter()
                await set_up(world, sizes.applications)
                print(
                    f"users, {sizes.applications + 1} applications, workflows, 4 policies: "
                    f"{time.perf_counter() - setup_started:.1f} s"
                )
                if "throughput" in parts:
                    await throughput(world, sizes)
                    stack.check_alive()
                if "pending" in parts:
                    await pending_approvals(world, stack, sizes, explain, analyze_all)
                    stack.check_alive()
                if "auto" in parts:
                    await auto_promotion(world, stack, sizes)
                    stack.check_alive()
        finally:
            await meter.close()
    print(f"\ndone in {time.perf_counter() - started:.0f} s; processes and database removed")


def _steps(text: str) -> tuple[int, ...]:
    """`--pending`: increasing positive numbers, comma-separated."""
    try:
        steps = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not numbers: {text}") from None
    if not steps or min(steps) < 1000 or list(steps) != sorted(set(steps)):
        raise argparse.ArgumentTypeError("increasing numbers, each at least 1000")
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(DESCRIPTION or "").split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="small sizes: 15-35 s, figures still worth reading"
    )
    size.add_argument(
        "--smoke",
        action="store_true",
        help="toy sizes, one round of every part: a check that the script "
        "runs (tests/bench does it), its figures mean nothing",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of pendingApprovals' SQL at the largest size",
    )
    parser.add_argument(
        "--analyze-all",
        action="store_true",
        help="ANALYZE every table after the bulk load, small ones too "
        "(default: only the big tables, as autovacuum would)",
    )
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the server's and worker's logs (their folder is printed)",
    )
    parser.add_argument(
        "--pending",
        type=_steps,
        metavar="N,N...",
        help="part 3's numbers of awaiting requests instead of the mode's "
        "(e.g. 10000,1000000: about 8 minutes of bulk load per million)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable); default: all of them",
    )
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL
    mode = MODES[id(sizes)]
    if args.pending:
        sizes = dataclasses.replace(sizes, pending=args.pending)
        mode += ", pending " + "/".join(f"{n:,}" for n in args.pending)

    async def guarded() -> None:
        # SIGTERM cancels like Ctrl-C does, so the clean-up below still runs.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await run(sizes, parts, args.explain, args.analyze_all, args.keep_logs, mode)

    try:
        asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; processes and database removed", file=sys.stderr)
        return 130
    except (RuntimeError, AssertionError, pytest.skip.Exception) as exc:
        # BenchError, a process of the stack that died or did not start, a wait that
        # timed out (TimedOut), a missing Postgres or redis-server (the kit's skip).
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
