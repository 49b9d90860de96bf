"""Run the ceiling benchmark: ``.venv/bin/python -m bench.ceiling [--smoke|--quick]``.

The pieces live beside this file: baselines.py (the reference servers), driver.py (the
load generator), proxy.py (the round-trip counter), hoist.py (the stack, set-up, rows),
noop.py (the no-op Celery task), openload.py (the open-loop mix), report.py (the tables).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bench.ceiling import __doc__ as DESCRIPTION
from bench.ceiling.baselines import TRIVIAL, running_baseline
from bench.ceiling.driver import ProcessMeter, Row, closed_loop
from bench.ceiling.hoist import hoist_rows, hoist_stack, serve_takes_workers, set_up_deploy_app
from bench.ceiling.noop import dispatch_latencies, noop_worker
from bench.ceiling.openload import OPS, Supplies, stepped_load, supplies_needed
from bench.ceiling.report import Figures, print_report
from bench.promotion.auto import measure_auto_promotion
from bench.promotion.common import (
    PROMOTE,
    SHOP,
    Api,
    CpuMeter,
    World,
    gather_limited,
    heading,
    set_up,
)

CLIENTS = 4


@dataclass(frozen=True)
class Sizes:
    mode: str
    trivial_calls: int  # raw, Strawberry and `me` rows
    promotions: int  # promoteImage calls, then as many approvals
    list_calls: int  # pendingApprovals and each deployableImages row
    history: tuple[int, int]  # promotions to prod at the two deployableImages rows
    auto_promotions: int
    noop_tasks: int
    rates: tuple[float, ...]  # open-loop arrivals per second, stepped up
    step_seconds: float


FULL = Sizes("full", 3000, 400, 300, (20, 10_000), 100, 200, (10, 25, 50, 100, 150, 200, 300), 10)
QUICK = Sizes("quick", 1000, 100, 100, (20, 2000), 20, 50, (10, 25, 50, 100, 150, 200), 4)
SMOKE = Sizes("smoke", 30, 5, 5, (20, 60), 2, 3, (10, 20), 1)


async def baseline(kind: str, name: str, query: str, sizes: Sizes, workdir: Path) -> Row:
    with running_baseline(kind, workdir) as (url, process):
        api = Api(url)

        async def call(http: httpx.AsyncClient) -> None:
            await api(http, "reference", query)  # the token is not read

        meter = ProcessMeter(process.pid)
        warm_up = [call] * min(50, sizes.trivial_calls)
        await closed_loop(url, name, warm_up, meter, CLIENTS)
        return await closed_loop(url, name, [call] * sizes.trivial_calls, meter, CLIENTS)


async def open_loop_supplies(world: World, sizes: Sizes, deployable: list[str]) -> Supplies:
    """Images for every promotion the steps may make, and requests awaiting approval for
    the first second of approvals at the top rate: an approval arrives right after a
    promotion, before that promotion's answer names its request."""
    needed = supplies_needed(sizes.rates, sizes.step_seconds)
    stock = int(max(sizes.rates) / len(OPS)) + 2
    images = await world.images(SHOP, needed + stock, "8", CLIENTS)
    awaiting: deque[str] = deque()

    async def promote(image: str) -> None:
        data = await world(PROMOTE, {"image": image, "targets": ["prod"]})
        awaiting.append(data["promoteImage"]["results"][0]["request"]["id"])

    await gather_limited([functools.partial(promote, i) for i in images[needed:]], CLIENTS)
    return Supplies(deque(images[:needed]), awaiting, deque(reversed(deployable)))


async def run(sizes: Sizes, workers: int | None, keep_logs: bool) -> None:
    started = time.perf_counter()
    serve_args: list[str] = []
    note = "hoist serve: one process"
    if workers is not None:
        if serve_takes_workers():
            serve_args = ["--workers", str(workers)]
            note = f"hoist serve --workers {workers}"
        else:
            note = f"hoist serve has no --workers option here: one process (asked: {workers})"
    print(
        f"hoist ceiling benchmark, {sizes.mode} mode, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"Python {sys.version.split()[0]}; {note}; {CLIENTS} keep-alive clients"
    )
    workdir = Path(tempfile.mkdtemp(prefix="hoist-ceiling-baselines-"))
    heading("1-2. reference servers")
    try:
        raw = await baseline("raw", "raw Starlette JSON", "{ raw }", sizes, workdir)
        print(f"raw Starlette: {raw.per_second:,.0f} req/s")
        trivial = await baseline("strawberry", f"Strawberry `{TRIVIAL}`", TRIVIAL, sizes, workdir)
        print(f"Strawberry {TRIVIAL}: {trivial.per_second:,.0f} req/s")
    finally:
        if keep_logs:
            print(f"(reference servers' logs kept in {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    async with hoist_stack(serve_args, keep_logs) as (stack, proxy):
        heading("3. Hoist")
        api = Api(stack.server.url)
        assert stack.server.process is not None
        meter = CpuMeter(stack.server.process.pid, stack.worker.pid, stack.database_url)
        # The no-op worker starts now, so that its start-up overlaps the set-up.
        with noop_worker(stack.redis.url, stack.workdir) as noop:
            await meter.open()
            try:
                async with api.client() as http:
                    world = World(api, http, stack.server.token, meter)
                    await set_up(world, 6)
                    await set_up_deploy_app(world)
                    print(f"set-up through GraphQL done at {time.perf_counter() - started:.0f} s")
                    rows = await hoist_rows(
                        world,
                        stack,
                        proxy,
                        CLIENTS,
                        sizes.trivial_calls,
                        sizes.promotions,
                        sizes.list_calls,
                        sizes.history,
                    )
                    print(f"closed-loop rows done at {time.perf_counter() - started:.0f} s")

                    heading("auto-promotion against a no-op Celery task")
                    auto, _ = await measure_auto_promotion(
                        world, stack, sizes.auto_promotions, CLIENTS, prefix="5"
                    )
                    dispatch = await dispatch_latencies(noop, sizes.noop_tasks)

                    heading(
                        "open-loop mix: promote, approve, pendingApprovals, deployableImages, "
                        f"deploy in turn, {sizes.step_seconds:g} s per rate"
                    )
                    supplies = await open_loop_supplies(world, sizes, rows.deployable_ids)
                    steps = await stepped_load(
                        world,
                        stack.server.url,
                        supplies,
                        sizes.rates,
                        sizes.step_seconds,
                        stack.check_alive,
                    )
                    stack.check_alive()
            finally:
                await meter.close()
    print_report(Figures(raw, trivial, rows, auto.server, dispatch, steps, note))
    print(f"\ndone in {time.perf_counter() - started:.0f} s; processes and database removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(DESCRIPTION or "").split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="moderate sizes: a few minutes, figures worth reading"
    )
    size.add_argument(
        "--smoke",
        action="store_true",
        help="toy sizes: a check that the script runs (tests/bench does it), figures mean nothing",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="pass `--workers N` to `hoist serve`, if this checkout's has that option",
    )
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the server's and workers' logs (their folder is printed)",
    )
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL

    async def guarded() -> None:
        # SIGTERM cancels like Ctrl-C does, so the clean-up still runs.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await run(sizes, args.workers, args.keep_logs)

    try:
        asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; processes and database removed", file=sys.stderr)
        return 130
    except (RuntimeError, AssertionError, httpx.HTTPError, pytest.skip.Exception) as exc:
        # BenchError, a process that died or did not start, a wait that timed out, a
        # missing Postgres or redis-server (the kit's skip).
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
