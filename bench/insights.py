"""Benchmark: deliveryInsights over a year of 100,000 promotion requests.

Run from the project root: ``.venv/bin/python bench/insights.py [--smoke] [--postgres]``.
Bulk-inserts two applications' histories into a temporary SQLite database (and, with
--postgres, into a scratch Postgres database beside HOIST_TEST_POSTGRES_URL's, dropped at
the end): `big` with N promotion requests (N/2 images, deployments and stage runs, an
approval per approved request, a few rollbacks) and `small` with N/10, spread over 360
days. Then times, side by side in the same run, the service's `delivery_insights` over
366 days (one environment, and all) against a plain COUNT(*) of the same application's
requests in the range (the cheapest read of those rows), for both applications, and
prints the times and their ratios: insights/COUNT says what the aggregation costs beyond
touching the rows, big/small how it grows with the history.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, run as a file

from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app import db
from app.accounts.access import SYSTEM
from app.accounts.models import User
from app.catalog.models import (
    Application,
    CdPipeline,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Workflow,
)
from app.deployments.models import Deployment, DeploymentStatus
from app.insights.service import delivery_insights
from app.promotions.models import (
    DecisionKind,
    PromotionDecision,
    PromotionRequest,
    PromotionStatus,
    SourceType,
)

END = datetime(2026, 12, 1, tzinfo=UTC)
START = END - timedelta(days=366)
SPREAD = timedelta(days=360)
BATCH = 2_000
STATUSES = [
    (PromotionStatus.PROMOTED, 60),
    (PromotionStatus.REJECTED, 10),
    (PromotionStatus.CANCELLED, 8),
    (PromotionStatus.EXPIRED, 6),
    (PromotionStatus.STALE, 4),
    (PromotionStatus.AWAITING_APPROVAL, 8),
    (PromotionStatus.QUEUED, 2),
    (PromotionStatus.PROMOTING, 2),
]
OUTCOMES = [DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED]
APPROVED = {PromotionStatus.PROMOTED, PromotionStatus.QUEUED, PromotionStatus.PROMOTING}


async def catalog() -> tuple[dict[str, Environment], list[User]]:
    envs = {
        n: await Environment.create(name=n, production=n == "prod")
        for n in ("dev", "staging", "prod")
    }
    users = [await User.create(email=f"u{i}@example.com", name=f"U{i}") for i in range(2)]
    return envs, users


async def history(
    name: str, requests: int, envs: dict[str, Environment], users: list[User]
) -> None:
    """`requests` promotion requests of a new application `name`, and half as many images,
    deployments (with a stage run each) and approvals, at random times over SPREAD."""
    rng = random.Random(name)
    app = await Application.create(name=name)
    workflow = await Workflow.create(application=app, name="main", ci_pipeline="ci")
    parent = None
    for position, env in enumerate(envs.values()):
        parent = await CdPipeline.create(
            workflow=workflow, application=app, environment=env, parent=parent, position=position
        )
    owner = {"application_id": app.id, "workflow_id": workflow.id}

    def moment() -> datetime:
        return END - SPREAD + timedelta(seconds=rng.uniform(0, SPREAD.total_seconds()))

    images = await _bulk(
        Image,
        [
            Image(**owner, image=f"r.example.com/{name}:{i}", newest_commit_at=moment())
            for i in range(max(1, requests // 2))
        ],
    )
    targets = [envs["prod"].id] * 3 + [envs["staging"].id]
    sources = [None, envs["dev"].id, envs["staging"].id, envs["staging"].id]
    statuses, weights = zip(*STATUSES, strict=True)
    made = []
    for i in range(requests):
        source = rng.choice(sources)
        made.append(
            PromotionRequest(
                **owner,
                image_id=images[i // 2].pk,
                source_type=SourceType.ENVIRONMENT if source else SourceType.CI,
                source_environment_id=source,
                target_environment_id=rng.choice(targets),
                status=rng.choices(statuses, weights)[0],
                requested_by_id=users[0].id,
                policy_name="p",
                policy_version=1,
                required_approvals=rng.choice([0, 1, 1, 1]),
                created_at=moment(),
            )
        )
    await _bulk(PromotionRequest, made)
    await _bulk(
        PromotionDecision,
        [
            PromotionDecision(
                request_id=r.pk,
                user_id=users[1].id,
                kind=DecisionKind.APPROVE,
                at=r.created_at + timedelta(minutes=rng.uniform(1, 600)),
            )
            for r in made
            if r.status in APPROVED and r.required_approvals
        ],
    )
    deployments = await _bulk(
        Deployment,
        [
            Deployment(
                application_id=app.id,
                environment_id=rng.choice(targets),
                image_id=image.pk,
                status=rng.choices(OUTCOMES, [9, 1])[0],
                created_at=image.newest_commit_at + timedelta(minutes=rng.uniform(10, 2880)),
            )
            for image in images
        ],
    )
    await _bulk(
        StageRun,
        [
            StageRun(
                image_id=d.image_id,
                environment_id=d.environment_id,
                stage=Stage.DEPLOY,
                status=StageStatus(d.status.value),
                deployment_id=d.pk,
                created_at=d.created_at + timedelta(minutes=rng.uniform(1, 30)),
            )
            for d in deployments
        ],
    )
    await _bulk(
        Deployment,
        [
            Deployment(
                application_id=app.id,
                environment_id=d.environment_id,
                image_id=d.image_id,
                status=DeploymentStatus.SUCCEEDED,
                rollback_of_id=d.pk,
                created_at=d.created_at + timedelta(hours=2),
            )
            for d in rng.sample(deployments, len(deployments) // 50)
        ],
    )


async def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    """Insert `rows` in batches, then set their ids (bulk inserts return none): the newest
    len(rows) ids, in order (nothing else writes meanwhile)."""
    for start in range(0, len(rows), BATCH):
        await model.bulk_create(rows[start : start + BATCH])
    ids = await model.all().order_by("-id").limit(len(rows)).values_list("id", flat=True)
    for row, pk in zip(rows, reversed(ids), strict=True):
        row.pk = pk
    return rows


async def timed(call: Callable[[], Awaitable[Any]], rounds: int) -> tuple[float, float]:
    """The median wall time and this process's median CPU time of `call`, in seconds,
    after one warm-up call. On SQLite the CPU time includes the database's own work (it
    runs in this process) and barely moves with the machine's load; on Postgres the
    server's work is in the wall time only."""
    await call()
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        await call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


async def count_in_range(app: str) -> int:
    [[n]] = (
        await connections.get("default").execute_query(
            "SELECT COUNT(*) FROM promotion_requests p "
            "JOIN applications a ON a.id = p.application_id "
            f"WHERE a.name = '{app}' AND p.created_at >= {_p(1)} AND p.created_at < {_p(2)}",
            [START, END],
        )
    )[1]
    return int(n)


def _p(i: int) -> str:
    return f"${i}" if connections.get("default").capabilities.dialect == "postgres" else "?"


async def measure(label: str, url: str, requests: int, rounds: int) -> None:
    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        loading = time.perf_counter()
        envs, users = await catalog()
        for name, n in (("big", requests), ("small", requests // 10)):
            await history(name, n, envs, users)
        if label == "Postgres":  # fresh statistics, and the visibility map index-only scans need
            await connections.get("default").execute_script("VACUUM ANALYZE")
        print(
            f"{label}: loaded {requests:,} + {requests // 10:,} requests in "
            f"{time.perf_counter() - loading:.1f} s; median of {rounds} calls over 366 days:"
        )
        print(f"  {'':28} {'big':>19} {'small':>19} {'big/small':>10}")
        print(f"  {'':28} {'wall':>9} {'CPU':>9} {'wall':>9} {'CPU':>9} {'(wall)':>10}")
        results: dict[str, dict[str, tuple[float, float]]] = {}
        for app in ("big", "small"):
            assert await count_in_range(app) > 0, "nothing in the range: nothing measured"
            results.setdefault("COUNT(*) of the requests", {})[app] = await timed(
                lambda app=app: count_in_range(app), rounds
            )
            for env in ("prod", None):
                results.setdefault(f"deliveryInsights({env or 'all'})", {})[app] = await timed(
                    lambda app=app, env=env: delivery_insights(SYSTEM, app, env, START, END),
                    rounds,
                )
        for what, by_app in results.items():
            (big_wall, big_cpu), (small_wall, small_cpu) = by_app["big"], by_app["small"]
            print(
                f"  {what:28} {big_wall * 1000:6.1f} ms {big_cpu * 1000:6.1f} ms "
                f"{small_wall * 1000:6.1f} ms {small_cpu * 1000:6.1f} ms "
                f"{big_wall / small_wall:9.1f}x"
            )
        base = results["COUNT(*) of the requests"]
        for what, by_app in results.items():
            if what != "COUNT(*) of the requests":
                print(
                    f"  {what} / COUNT(*), wall: big {by_app['big'][0] / base['big'][0]:.1f}x, "
                    f"small {by_app['small'][0] / base['small'][0]:.1f}x"
                )
    finally:
        await Tortoise.close_connections()
        # Tortoise caches each model's SQL by connection name, not dialect (as
        # tests/conftest.py says): forget it before the other database.
        EXECUTOR_CACHE.clear()
        await Tortoise._reset_apps()


async def main(requests: int, rounds: int, postgres: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hoist-insights-"))
    await measure("SQLite", f"sqlite://{folder / 'bench.sqlite3'}", requests, rounds)
    if postgres:
        from tests.support.services import POSTGRES_URL
        from tests.support.stack import scratch_database

        async with scratch_database(f"hoist_bench_insights_{os.getpid()}", POSTGRES_URL) as url:
            await measure("Postgres", url, requests, rounds)
    print("done")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="toy sizes: checks the script runs")
    parser.add_argument("--postgres", action="store_true", help="also on a scratch Postgres")
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args()
    requests, rounds = (1_000, 1) if args.smoke else (args.requests, 5)
    asyncio.run(main(requests, rounds, args.postgres))
