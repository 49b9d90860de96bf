"""The one load generator of every row: closed loop, a few keep-alive clients (one httpx
connection each) taking calls off a shared queue; and the open-loop stepper, whose
arrivals are evenly spaced whatever the answers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from bench.promotion.common import BenchError, percentile, tree_cpu

Call = Callable[[httpx.AsyncClient], Awaitable[Any]]


class Meter(Protocol):
    async def sample(self) -> Any: ...

    async def since(self, before: Any) -> tuple[float, float, float]:
        """(server, worker, Postgres) CPU seconds since `before`."""
        ...


class ProcessMeter:
    """The Meter of a reference server: its process (and children); no worker, no Postgres."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    async def sample(self) -> float:
        return tree_cpu(self.pid)

    async def since(self, before: float) -> tuple[float, float, float]:
        return tree_cpu(self.pid) - before, 0.0, 0.0


RoundTrips = Callable[[], Awaitable[int]]


@dataclass
class Row:
    name: str
    calls: int
    seconds: float
    latencies: list[float]
    server_cpu: float  # seconds, all calls
    worker_cpu: float
    postgres_cpu: float
    round_trips: int | None = None  # to Postgres, all calls (Hoist rows only)
    client_cpu: float = 0.0  # the load generator's own (this process), all calls

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds

    def per_call(self, seconds: float) -> float:
        return seconds / self.calls


def client(url: str) -> httpx.AsyncClient:
    """One keep-alive connection, like one dashboard tab or script."""
    return httpx.AsyncClient(base_url=url, timeout=60.0, limits=httpx.Limits(max_connections=1))


async def closed_loop(
    url: str,
    name: str,
    calls: Sequence[Call],
    meter: Meter,
    clients: int,
    round_trips: RoundTrips | None = None,
    settle: Callable[[], Awaitable[None]] | None = None,
) -> Row:
    """Run `calls` with `clients` concurrent clients, each sending its next call when its
    previous one is answered; the wall-clock rate, latencies and CPU of the whole batch.
    `settle` waits, after the last answer, for the work the calls left to the worker, so
    that its CPU is the batch's (the rate is not affected)."""
    queue: asyncio.Queue[Call] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    latencies: list[float] = []
    ready = asyncio.Event()
    connected = 0

    async def run() -> None:
        nonlocal connected
        async with client(url) as http:
            (await http.get("/healthz")).raise_for_status()  # connect outside the timing
            connected += 1
            if connected == clients:
                ready.set()
            await ready.wait()
            while not queue.empty():
                call = queue.get_nowait()
                started = time.perf_counter()
                await call(http)
                latencies.append(time.perf_counter() - started)

    tasks = [asyncio.create_task(run()) for _ in range(clients)]
    try:
        await ready.wait()
        before = await meter.sample()
        trips = await round_trips() if round_trips else None
        started, client_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - client_started
        if settle:
            await settle()
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
    server, worker, postgres = await meter.since(before)
    total_trips = (await round_trips()) - trips if round_trips and trips is not None else None
    return Row(
        name, len(calls), seconds, latencies, server, worker, postgres, total_trips, client_cpu
    )


# --------------------------------------------------------------------------------------
# Open loop
# --------------------------------------------------------------------------------------

OPEN_LOOP_CONNECTIONS = 200  # far more than the server can keep busy: arrivals never wait


@dataclass
class Step:
    rate: float  # arrivals per second, as scheduled
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)  # per operation
    errors: dict[str, int] = field(default_factory=dict)
    late: float = 0.0  # how far behind its schedule an arrival was sent, at most

    @property
    def all(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]

    @property
    def p95(self) -> float:
        return percentile(self.all, 95) if self.all else float("inf")

    @property
    def p50(self) -> float:
        return percentile(self.all, 50) if self.all else float("inf")


Pick = Callable[[int], tuple[str, Call]]  # arrival number -> (operation, call)


async def open_loop(url: str, rate: float, seconds: float, pick: Pick, drain: float) -> Step:
    """`rate * seconds` arrivals, evenly spaced; each call's latency runs from its
    scheduled arrival (so a backlog in the client counts too) to its answer. Calls not
    answered within `drain` seconds after the last arrival count as errors."""
    step = Step(rate, seconds)
    limits = httpx.Limits(
        max_connections=OPEN_LOOP_CONNECTIONS, max_keepalive_connections=OPEN_LOOP_CONNECTIONS
    )
    async with httpx.AsyncClient(base_url=url, timeout=drain + seconds, limits=limits) as http:

        async def arrive(op: str, call: Call, at: float) -> None:
            try:
                await call(http)
            except (BenchError, httpx.HTTPError) as exc:
                step.errors[op] = step.errors.get(op, 0) + 1
                if len(step.errors) == 1 and sum(step.errors.values()) == 1:
                    print(f"    (first error, {op}: {str(exc)[:300]})")
                return
            step.latencies.setdefault(op, []).append(time.perf_counter() - at)

        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        for n in range(max(1, int(rate * seconds))):
            at = start + n / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            step.late = max(step.late, time.perf_counter() - at)
            op, call = pick(n)
            tasks.append(asyncio.create_task(arrive(op, call, at)))
        done, pending = await asyncio.wait(tasks, timeout=drain)
        for task in pending:
            task.cancel()
        if pending:
            step.errors["unanswered"] = len(pending)
            await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # a bug in the bench (not an HTTP or GraphQL error) fails the run
    return step
