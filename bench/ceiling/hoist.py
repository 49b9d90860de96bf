"""Hoist's side of the ceiling: the stack (the test kit's, with `hoist serve` talking to
Postgres through the round-trip proxy), the set-up beyond bench/promotion's, the bulk
history of promotions for deployableImages, and the closed-loop rows."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app.ids import global_id
from bench.ceiling.driver import Row, closed_loop
from bench.ceiling.proxy import RoundTripProxy, round_trip_proxy
from bench.promotion.common import (
    APPROVE,
    CREATE_APPLICATION,
    CREATE_WORKFLOW,
    ME,
    PENDING,
    PROMOTE,
    SHOP,
    BenchError,
    World,
)
from bench.promotion.pending import IMAGE_COLUMNS, REQUEST_COLUMNS
from tests.support.live_server import HOIST, server_env
from tests.support.stack import Stack, running_stack, scratch_database
from tests.support.waiting import eventually

DEPLOY_APP = "ceiling-deploy"  # dev -> prod; prod's history is bulk-loaded
# The page bench/deployable.py times: the images with their reasons and provenance.
DEPLOYABLE = """query { deployableImages(application: "ceiling-deploy", environment: "prod",
  first: 20) { edges { node { image { id tag } deployable reasons
  promotedFrom { requestId approvers { email } } } } pageInfo { hasNextPage } } }"""
DEPLOY = """mutation($image: ID!) { deployImage(application: "ceiling-deploy",
  environment: "prod", imageId: $image) { deployment { id } errors { code message } } }"""


SERVER_READY_WITHIN_SECONDS = 120.0


def serve_takes_workers() -> bool:
    """Whether this checkout's `hoist serve` has a --workers option (issue 15 adds one)."""
    result = subprocess.run(
        [str(HOIST), "serve", "--help"],
        env=server_env(Path(tempfile.gettempdir())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "--workers" in result.stdout


@contextlib.asynccontextmanager
async def hoist_stack(
    serve_args: list[str], keep_logs: bool
) -> AsyncIterator[tuple[Stack, RoundTripProxy]]:
    """Scratch database, the proxy in front of it for `hoist serve`, Redis, server and
    worker (2 pool processes, beat: `hoist worker`'s defaults); all removed on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="hoist-ceiling-"))
    try:
        async with scratch_database(f"hoist_ceiling_{os.getpid()}") as database_url:
            host, port = database_url.split("@", 1)[1].split("/", 1)[0].split(":")
            async with round_trip_proxy(host, int(port)) as proxy:
                with running_stack(
                    workdir,
                    database_url,
                    concurrency=2,
                    beat=True,
                    server_database_url=proxy.url_for(database_url),
                    serve_args=serve_args,
                    # Several server processes each import the app: slow on a busy machine.
                    server_ready_within=SERVER_READY_WITHIN_SECONDS,
                    HOIST_LOG_LEVEL="WARNING",
                ) as stack:
                    yield stack, proxy
    finally:
        if keep_logs:
            print(f"(logs kept in {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def set_up_deploy_app(world: World) -> None:
    """DEPLOY_APP (dev -> prod, no policy) and `deployer`, who may deploy it."""
    await world(CREATE_APPLICATION, {"name": DEPLOY_APP})
    await world(
        CREATE_WORKFLOW,
        {
            "input": {
                "application": DEPLOY_APP,
                "name": "main",
                "ciPipeline": f"{DEPLOY_APP}-ci",
                "cdPipelines": [
                    {"environment": "dev"},
                    {"environment": "prod", "parentEnvironment": "dev"},
                ],
            }
        },
    )
    await world.user("deployer", ("BUILD_DEPLOY", DEPLOY_APP, "*"))


async def load_promotions(database_url: str, count: int) -> list[str]:
    """`count` more images of DEPLOY_APP, each PROMOTED to prod, with COPY (as
    bench/promotion/pending.py loads its requests); their global ids."""
    db = await asyncpg.connect(database_url)
    try:
        app_id = await db.fetchval("SELECT id FROM applications WHERE name = $1", DEPLOY_APP)
        workflow = await db.fetchval("SELECT id FROM workflows WHERE application_id = $1", app_id)
        prod = await db.fetchval("SELECT id FROM environments WHERE name = 'prod'")
        requester = await db.fetchval("SELECT id FROM users WHERE email LIKE 'deployer@%'")
        image_id = await db.fetchval("SELECT COALESCE(MAX(id), 0) FROM images")
        request_id = await db.fetchval("SELECT COALESCE(MAX(id), 0) FROM promotion_requests")
        start = datetime.now(UTC) - timedelta(days=365)
        images, requests = [], []
        for n in range(count):
            image_id, request_id = image_id + 1, request_id + 1
            at = start + timedelta(minutes=n)
            tag = f"9.{image_id // 1000}.{image_id % 1000}"
            images.append(
                (
                    image_id,
                    app_id,
                    workflow,
                    f"registry.example.com/{DEPLOY_APP}:{tag}",
                    None,
                    json.dumps(["stable"]),
                    json.dumps([]),
                    None,
                    at,
                )
            )
            evaluation = {"variables": {"containerImageTag": tag}, "eligible": True}
            requests.append(
                (
                    request_id,
                    image_id,
                    app_id,
                    workflow,
                    "CI",
                    None,
                    prod,
                    "PROMOTED",
                    f"{image_id}:{prod}",
                    requester,
                    "history",
                    None,
                    "ceiling-history",
                    1,
                    0,
                    json.dumps(evaluation | {"passCondition": None, "failCondition": None}),
                    None,
                    at,
                    at,
                    at + timedelta(seconds=1),
                )
            )
        async with db.transaction():
            await db.copy_records_to_table("images", records=images, columns=IMAGE_COLUMNS)
            await db.copy_records_to_table(
                "promotion_requests", records=requests, columns=REQUEST_COLUMNS
            )
            for table in ("images", "promotion_requests"):
                await db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
        await db.execute("VACUUM ANALYZE images, promotion_requests")
        return [global_id("Image", row[0]) for row in images]
    finally:
        await db.close()


SETTLE_WITHIN_SECONDS = 120.0
WARM_UP_ROUNDS = 3  # untimed calls per client before each row


async def jobs_done(world: World) -> None:
    """Wait until the worker has run every outbox job not yet tried (a job that failed
    and waits for its retry is not waited for)."""
    db = world.meter.db
    assert db is not None

    async def done() -> bool:
        return not await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM outbox_jobs WHERE done_at IS NULL "
            "AND dead_at IS NULL AND attempts = 0)"
        )

    await eventually(done, "the worker running the outbox jobs", SETTLE_WITHIN_SECONDS)


@dataclass
class HoistRows:
    me: Row
    promote: Row
    pending: Row
    approve: Row
    deployable_small: Row
    deployable_large: Row
    history: tuple[int, int]  # promotions to prod at the two deployableImages rows
    deployable_ids: list[str]  # DEPLOY_APP's images promoted to prod (for deployImage)


Graphql = Callable[[httpx.AsyncClient], Awaitable[Any]]


async def hoist_rows(
    world: World,
    stack: Stack,
    proxy: RoundTripProxy,
    clients: int,
    trivial_calls: int,
    promotions: int,
    list_calls: int,
    history: tuple[int, int],
) -> HoistRows:
    api, meter = world.api, world.meter
    url = stack.server.url
    promoter, approver, deployer = (world.tokens[n] for n in ("promoter", "approver", "deployer"))

    def query(token: str, document: str, variables: dict[str, Any] | None = None) -> Graphql:
        async def call(http: httpx.AsyncClient) -> Any:
            return await api(http, token, document, variables)

        return call

    async def settle() -> None:
        await jobs_done(world)

    async def row(name: str, calls: list[Graphql], warm_up: list[Graphql]) -> Row:
        # Untimed first: each server process's first calls of a kind pay for imports and
        # caches (with `--workers N`, the connections of a row land on any process).
        await closed_loop(url, name, warm_up, meter, clients, settle=settle)
        measured = await closed_loop(url, name, calls, meter, clients, proxy.count, settle)
        stack.check_alive()
        return measured

    warm = WARM_UP_ROUNDS * clients
    images = await world.images(SHOP, promotions + warm, "7", clients)
    me_call = query(promoter, ME)
    me = await row("{ me { id } }", [me_call] * trivial_calls, [me_call] * warm)

    request_ids: list[str] = []

    def promote(image: str) -> Graphql:
        async def call(http: httpx.AsyncClient) -> None:
            data = await api(http, promoter, PROMOTE, {"image": image, "targets": ["prod"]})
            [result] = data["promoteImage"]["results"]
            if result["outcome"] != "AWAITING_APPROVAL":
                raise BenchError(f"promoteImage: expected AWAITING_APPROVAL, got {result}")
            request_ids.append(result["request"]["id"])

        return call

    promoted = await row(
        "promoteImage (1 target)",
        [promote(i) for i in images[warm:]],
        [promote(i) for i in images[:warm]],
    )
    pending_call = query(approver, PENDING, {"mine": True})
    pending = await row(
        "pendingApprovals(first: 20)", [pending_call] * list_calls, [pending_call] * warm
    )

    def approve(request_id: str) -> Graphql:
        async def call(http: httpx.AsyncClient) -> None:
            data = await api(http, approver, APPROVE, {"ids": [request_id]})
            [result] = data["approvePromotionRequests"]["results"]
            if result["outcome"] != "PROMOTING":
                raise BenchError(f"approvePromotionRequests: expected PROMOTING, got {result}")

        return call

    # The warm-up's requests are approved in the approvals' warm-up.
    approved = await row(
        "approvePromotionRequests (1)",
        [approve(i) for i in request_ids[warm:]],
        [approve(i) for i in request_ids[:warm]],
    )

    small, large = history
    deployable_call = query(deployer, DEPLOYABLE)
    ids = await load_promotions(stack.database_url, small)
    deployable_small = await row(
        f"deployableImages(first: 20), {small:,} promoted",
        [deployable_call] * list_calls,
        [deployable_call] * warm,
    )
    ids += await load_promotions(stack.database_url, large - small)
    deployable_large = await row(
        f"deployableImages(first: 20), {large:,} promoted",
        [deployable_call] * list_calls,
        [deployable_call] * warm,
    )
    return HoistRows(
        me, promoted, pending, approved, deployable_small, deployable_large, history, ids
    )
