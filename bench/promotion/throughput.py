"""Part 2: promoteImage / approvePromotionRequests throughput, with a few concurrent
clients, against the trivial query `{ me { id } }` on the same server (measured side by
side, so the ratio holds on a busy machine)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bench.promotion.common import (
    APPROVE,
    ME,
    PROMOTE,
    SHOP,
    Api,
    BenchError,
    CpuMeter,
    Sizes,
    World,
    heading,
    ms,
    percentile,
)


@dataclass
class Rate:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    server_cpu: float  # seconds, all calls
    worker_cpu: float
    postgres_cpu: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def line(self, baseline: Rate | None = None) -> str:
        ratio = f"{self.per_second / baseline.per_second:9.2f}x" if baseline else f"{'':10}"
        return (
            f"{self.name:28}{self.count:>7,}{self.per_second:>10.1f}/s{ratio}"
            f"{ms(percentile(self.latencies, 50))}{ms(percentile(self.latencies, 95))}"
            f"{ms(self.server_cpu / self.count)}{ms(self.worker_cpu / self.count)}"
            f"{ms(self.postgres_cpu / self.count)}"
        )


RATE_HEADER = (
    f"{'':28}{'calls':>7}{'rate':>12}{'vs me':>10}{'p50':>11}{'p95':>11}"
    f"{'CPU: server':>14}{'worker':>11}{'Postgres':>11}  (per call)"
)


async def rate(
    api: Api,
    meter: CpuMeter,
    token: str,
    name: str,
    clients: int,
    calls: Sequence[Callable[[httpx.AsyncClient], Awaitable[Any]]],
) -> Rate:
    """Run `calls` with `clients` concurrent clients; wall-clock rate and per-call latency."""
    queue: asyncio.Queue[Callable[[httpx.AsyncClient], Awaitable[Any]]] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    latencies: list[float] = []

    async def client() -> None:
        async with api.client() as http:
            await api(http, token, ME)  # connect outside the timing
            await ready.wait()
            while not queue.empty():
                call = queue.get_nowait()
                started = time.perf_counter()
                await call(http)
                latencies.append(time.perf_counter() - started)

    ready = asyncio.Event()
    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(0.2)
    cpu = await meter.sample()
    started = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    return Rate(name, len(calls), seconds, latencies, *await meter.since(cpu))


THROUGHPUT_PENDING = """{ pendingApprovals(first: 20) { totalCount edges { node { id
  image { tag } targetEnvironment { name } requestedBy { email } canApprove } } } }"""


async def throughput(world: World, sizes: Sizes) -> list[Rate]:
    heading(f"2. promote + approve throughput over HTTP ({sizes.clients} concurrent clients)")
    api = world.api
    images = await world.images(SHOP, sizes.promotions, "2", sizes.clients)
    promoter, approver = world.tokens["promoter"], world.tokens["approver"]
    # Warm-up: the server's first calls of each kind pay for imports and caches.
    for _ in range(20):
        await world(ME, token=promoter)

    async def me(http: httpx.AsyncClient) -> None:
        await api(http, promoter, ME)

    baseline = await rate(
        api, world.meter, promoter, "{ me { id } }", sizes.clients, [me] * sizes.trivial_requests
    )

    request_ids: list[str] = []
    outcomes: dict[str, int] = {}

    def promote(image: str) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        async def call(http: httpx.AsyncClient) -> None:
            data = await api(http, promoter, PROMOTE, {"image": image, "targets": ["prod"]})
            result = data["promoteImage"]["results"][0]
            outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
            if result["request"]:
                request_ids.append(result["request"]["id"])

        return call

    promoted = await rate(
        api,
        world.meter,
        promoter,
        "promoteImage (1 target)",
        sizes.clients,
        [promote(i) for i in images],
    )

    def approve(request_id: str) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        async def call(http: httpx.AsyncClient) -> None:
            data = await api(http, approver, APPROVE, {"ids": [request_id]})
            outcome = data["approvePromotionRequests"]["results"][0]["outcome"]
            outcomes[f"approve:{outcome}"] = outcomes.get(f"approve:{outcome}", 0) + 1

        return call

    # Read while the requests await approval: the approver's default view, a page of 20.
    async def pending(http: httpx.AsyncClient) -> None:
        await api(http, approver, THROUGHPUT_PENDING)

    listed = await rate(
        api,
        world.meter,
        approver,
        "pendingApprovals (first 20)",
        sizes.clients,
        [pending] * sizes.trivial_requests,
    )
    approved = await rate(
        api,
        world.meter,
        approver,
        "approvePromotionRequests (1)",
        sizes.clients,
        [approve(i) for i in request_ids],
    )
    print(RATE_HEADER)
    print(baseline.line())
    print(promoted.line(baseline))
    print(listed.line(baseline))
    print(approved.line(baseline))
    print("outcomes:", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    if outcomes.get("AWAITING_APPROVAL") != len(images) or outcomes.get("approve:PROMOTING") != len(
        images
    ):
        raise BenchError(f"unexpected outcomes: {outcomes}")
    return [baseline, promoted, listed, approved]
