"""Open-loop mixed load on Hoist: promote, approve, pendingApprovals, deployableImages and
deploy in turn, at a fixed arrival rate stepped up; p95 per rate and the highest rate
whose p95 stays under the bound."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from bench.ceiling.driver import Call, Pick, Step, open_loop
from bench.ceiling.hoist import DEPLOY, DEPLOYABLE, jobs_done
from bench.promotion.common import APPROVE, PENDING, PROMOTE, BenchError, World, ms

P95_BOUND = 0.250
OPS = ("promoteImage", "approvePromotionRequests", "pendingApprovals", "deployableImages", "deploy")


@dataclass
class Supplies:
    """What the mix consumes: images to promote, requests awaiting approval, images
    promoted to DEPLOY_APP's prod to deploy."""

    images: deque[str]
    awaiting: deque[str]
    deployable: deque[str]


def mix(world: World, supplies: Supplies, skipped: dict[str, int]) -> Pick:
    """The operations in turn. What a call acts on is taken from the supplies when it
    arrives (in `pick`), not when its task first runs: a late generator creates several
    tasks before any of them starts."""
    api = world.api
    promoter, approver, deployer = (world.tokens[n] for n in ("promoter", "approver", "deployer"))

    def promote(image: str) -> Call:
        async def call(http: httpx.AsyncClient) -> None:
            data = await api(http, promoter, PROMOTE, {"image": image, "targets": ["prod"]})
            [result] = data["promoteImage"]["results"]
            if result["outcome"] != "AWAITING_APPROVAL":
                raise BenchError(f"promoteImage: expected AWAITING_APPROVAL, got {result}")
            supplies.awaiting.append(result["request"]["id"])

        return call

    def approve(request: str) -> Call:
        async def call(http: httpx.AsyncClient) -> None:
            await api(http, approver, APPROVE, {"ids": [request]})

        return call

    def deploy(image: str) -> Call:
        async def call(http: httpx.AsyncClient) -> None:
            await api(http, deployer, DEPLOY, {"image": image})

        return call

    async def pending(http: httpx.AsyncClient) -> None:
        await api(http, approver, PENDING, {"mine": True})

    async def deployable(http: httpx.AsyncClient) -> None:
        await api(http, deployer, DEPLOYABLE)

    acting: dict[str, tuple[deque[str], Callable[[str], Call]]] = {
        "promoteImage": (supplies.images, promote),
        "approvePromotionRequests": (supplies.awaiting, approve),
        "deploy": (supplies.deployable, deploy),
    }
    reading: dict[str, Call] = {"pendingApprovals": pending, "deployableImages": deployable}

    def pick(n: int) -> tuple[str, Call]:
        op = OPS[n % len(OPS)]
        if op in reading:
            return op, reading[op]
        stock, make = acting[op]
        if stock:
            return op, make(stock.popleft())
        # Nothing left to act on (an approval whose promotion is not answered yet): the
        # arrival still comes, as a read.
        skipped[op] = skipped.get(op, 0) + 1
        return "pendingApprovals", pending

    return pick


async def stepped_load(
    world: World,
    url: str,
    supplies: Supplies,
    rates: Sequence[float],
    seconds: float,
    check_alive: Callable[[], None],
) -> list[Step]:
    """Each rate for `seconds`, up to the first whose p95 reaches the bound (the rates
    above it would only queue more); the worker catches up between steps."""
    steps: list[Step] = []
    print(
        f"{'rate':>8}{'answered':>10}{'errors':>8}{'p50':>11}{'p95':>11}  "
        "p95 per operation (late: arrivals behind schedule)"
    )
    for rate in rates:
        skipped: dict[str, int] = {}
        step = await open_loop(url, rate, seconds, mix(world, supplies, skipped), drain=30.0)
        steps.append(step)
        per_op = ", ".join(
            f"{op.removesuffix('PromotionRequests').removesuffix('Image')} "
            f"{ms(Step(rate, seconds, {op: values}).p95).strip()}"
            for op, values in step.latencies.items()
        )
        extra = f"; {sum(skipped.values())} arrivals read instead" if skipped else ""
        if step.late > 0.05:
            extra += f"; arrivals up to {step.late * 1000:.0f} ms late"
        print(
            f"{rate:>6.0f}/s{len(step.all):>10}{sum(step.errors.values()):>8}"
            f"{ms(step.p50)}{ms(step.p95)}  {per_op}{extra}",
            flush=True,
        )
        if step.errors:
            print(f"    errors: {step.errors}")
        check_alive()
        await jobs_done(world)
        if step.p95 >= P95_BOUND:
            break
    return steps


def highest_rate(steps: Sequence[Step]) -> float | None:
    """The highest rate whose p95 stayed under the bound, with every arrival answered."""
    good = [s.rate for s in steps if s.p95 < P95_BOUND and not s.errors]
    return max(good) if good else None


def supplies_needed(rates: Sequence[float], seconds: float) -> int:
    """Arrivals of one operation over every step (an upper bound: the run may stop early)."""
    return int(sum(rate * seconds for rate in rates) / len(OPS)) + 1
