"""Part 4: auto-promotion latency: promoteImage answered -> the worker made the request
PROMOTED, through Redis and `hoist worker`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.promotion.common import (
    POLL_SECONDS,
    PROMOTE,
    PROMOTED_WITHIN_SECONDS,
    REQUEST_STATUS,
    SHOP,
    BenchError,
    Sizes,
    World,
    heading,
    ms,
    percentile,
)
from tests.support.processes import tail
from tests.support.stack import Stack
from tests.support.waiting import TimedOut, eventually

READY_WITHIN_SECONDS = 60.0  # the first promotions also wait for the worker to start


@dataclass
class AutoPromotion:
    observed: list[float]  # mutation answered -> a poll saw PROMOTED
    server: list[float]  # promotedAt - createdAt, as the server recorded them


async def auto_promotion(world: World, stack: Stack, sizes: Sizes) -> AutoPromotion:
    heading("4. auto-promotion latency: promoteImage answered -> PROMOTED (Redis + worker)")
    result, worker_cpu = await measure_auto_promotion(
        world, stack, sizes.auto_promotions, sizes.clients
    )
    print(
        f"{sizes.auto_promotions} promotions, one at a time, status polled every "
        f"{POLL_SECONDS * 1000:.0f} ms; worker CPU per promotion "
        f"{worker_cpu / sizes.auto_promotions * 1000:.1f} ms (all its processes)"
    )
    print(f"{'':44}{'p50':>11}{'p95':>11}{'max':>11}")
    for label, values in (
        ("answered -> poll sees PROMOTED", result.observed),
        ("server: promotedAt - createdAt", result.server),
    ):
        print(
            f"{label:44}{ms(percentile(values, 50))}{ms(percentile(values, 95))}{ms(max(values))}"
        )
    return result


async def measure_auto_promotion(
    world: World, stack: Stack, count: int, clients: int, prefix: str = "4"
) -> tuple[AutoPromotion, float]:
    """`count` promotions to SHOP's staging (set_up's `auto-lane`, approverCount 0), one
    at a time, each polled until PROMOTED; and the worker's CPU seconds for them all.
    bench/ceiling uses it too (with another image tag `prefix`)."""
    api = world.api
    promoter = world.tokens["promoter"]
    images = await world.images(SHOP, count + 3, prefix, clients)
    result = AutoPromotion([], [])
    cpu = await world.meter.sample()
    async with api.client() as http:
        for n, image in enumerate(images):
            if n == 3:
                cpu = await world.meter.sample()
            data = await api(http, promoter, PROMOTE, {"image": image, "targets": ["staging"]})
            answered = time.perf_counter()
            outcome = data["promoteImage"]["results"][0]
            if outcome["outcome"] != "PROMOTING":
                raise BenchError(f"expected PROMOTING, got {outcome}")
            request_id = outcome["request"]["id"]
            seen: dict[str, Any] = {}

            async def done(request_id: str = request_id, seen: dict[str, Any] = seen) -> bool:
                stack.check_alive()  # a dead worker fails now, not at the deadline
                seen.update(
                    (await api(http, promoter, REQUEST_STATUS, {"id": request_id}))[
                        "promotionRequest"
                    ]
                )
                return bool(seen["status"] == "PROMOTED")

            # The first ones also wait for the worker to start: they are not counted.
            try:
                await eventually(
                    done,
                    f"request {request_id} PROMOTED",
                    READY_WITHIN_SECONDS if n < 3 else PROMOTED_WITHIN_SECONDS,
                    interval=POLL_SECONDS,
                )
            except TimedOut as exc:
                raise BenchError(f"{exc}: {seen}\n{tail(stack.workdir / 'worker.log')}") from None
            if n < 3:
                continue
            result.observed.append(time.perf_counter() - answered)
            created = datetime.fromisoformat(seen["createdAt"])
            promoted = datetime.fromisoformat(seen["promotedAt"])
            result.server.append((promoted - created).total_seconds())
    _, worker_cpu, _ = await world.meter.since(cpu)
    return result, worker_cpu
