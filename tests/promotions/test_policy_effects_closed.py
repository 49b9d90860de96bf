"""A policy update moves only AWAITING_APPROVAL requests to its new version (SPEC §3,
issue 11 item 5): a request that already left that state keeps its required approvals,
its policy version and its state, also when it leaves at the same moment."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.accounts.models import Role
from app.ids import global_id
from tests.promotions.world import CANCEL, World, drain, request_row
from tests.support.waiting import eventually

UPDATE = """mutation($input: PromotionPolicyPatch!) {
  updatePromotionPolicy(name: "careful", input: $input) {
    policy { version } errors { code message } } }"""
REQUEST = """query($id: ID!) { promotionRequest(id: $id) {
  status requiredApprovals policyVersion } }"""


async def shown(world: World, request_id: int) -> dict[str, object]:
    data = await world.gql(
        REQUEST, {"id": global_id("PromotionRequest", request_id)}, token=world.admin
    )
    return data["promotionRequest"]


async def request_for(world: World, tag: str) -> int:
    image = await world.image(tag)
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "AWAITING_APPROVAL", r
    return request_row(r)


async def test_closed_requests_keep_their_count_version_and_state(world: World) -> None:
    await world.policy("careful", "prod", approver_count=3)
    third = await world.user("ap3", (Role.ARTIFACT_PROMOTER, "shop", "prod"))
    promoted, rejected, cancelled = [await request_for(world, t) for t in ("1.0", "2.0", "3.0")]
    for token in (world.tokens["approver"], world.tokens["approver2"], third):
        [d] = await world.decide(token, [promoted])
    assert d["outcome"] == "PROMOTING"
    await drain()
    [d] = await world.decide(world.tokens["approver"], [rejected], reason="red tests")
    assert d["outcome"] == "REJECTED"
    data = await world.gql(
        CANCEL, {"id": global_id("PromotionRequest", cancelled)}, token=world.tokens["dev"]
    )
    assert data["cancelPromotionRequest"]["errors"] == []
    waiting = await request_for(world, "4.0")

    data = await world.gql(UPDATE, {"input": {"approverCount": 4}}, token=world.admin)
    assert data["updatePromotionPolicy"] == {"policy": {"version": 2}, "errors": []}
    assert await shown(world, promoted) == {
        "status": "PROMOTED",
        "requiredApprovals": 3,
        "policyVersion": 1,
    }
    assert await shown(world, rejected) == {
        "status": "REJECTED",
        "requiredApprovals": 3,
        "policyVersion": 1,
    }
    assert await shown(world, cancelled) == {
        "status": "CANCELLED",
        "requiredApprovals": 3,
        "policyVersion": 1,
    }
    # The one request still awaiting approval follows the new version.
    assert await shown(world, waiting) == {
        "status": "AWAITING_APPROVAL",
        "requiredApprovals": 4,
        "policyVersion": 2,
    }


def _dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _waiting_on_locks(conn: asyncpg.Connection, query_like: str) -> bool:
    """Whether some backend is blocked on a lock running a statement like `query_like`."""
    return bool(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE $1",
            query_like,
        )
    )


async def test_a_request_promoted_while_the_policy_changes_keeps_its_count(
    world: World, db: str, db_url: str
) -> None:
    """The update lists the awaiting requests, then the last approval commits PROMOTING,
    then the update reaches that request: it must leave it alone.

    The interleaving is made with Postgres locks, observed in pg_stat_activity: a table
    lock on outbox_jobs holds the approval after it moved the request to PROMOTING (its
    promote job is the next write), so the update finds the request still awaiting and
    blocks on its row; then the approval is let go and commits first.
    """
    if db != "postgres":
        pytest.skip("SQLite runs one transaction at a time: this interleaving cannot occur")
    await world.policy("careful", "prod", approver_count=3)
    third = await world.user("ap3", (Role.ARTIFACT_PROMOTER, "shop", "prod"))
    request = await request_for(world, "1.0")
    for token in (world.tokens["approver"], world.tokens["approver2"]):
        [d] = await world.decide(token, [request])
        assert d["outcome"] == "APPROVED"

    gate, watch = await asyncpg.connect(_dsn(db_url)), await asyncpg.connect(_dsn(db_url))
    try:
        held = gate.transaction()
        await held.start()
        await gate.execute("LOCK TABLE outbox_jobs IN SHARE ROW EXCLUSIVE MODE")
        approval = asyncio.create_task(world.decide(third, [request]))
        await eventually(
            lambda: _waiting_on_locks(watch, '%INSERT INTO "outbox_jobs"%'),
            timeout=20,
            what="the last approval waiting to enqueue its job",
        )
        update = asyncio.create_task(
            world.gql(UPDATE, {"input": {"approverCount": 4}}, token=world.admin)
        )
        await eventually(
            lambda: _waiting_on_locks(watch, '%UPDATE "promotion_requests"%'),
            timeout=20,
            what="the policy update waiting on the request's row",
        )
        await held.rollback()
        [decision], updated = await asyncio.gather(approval, update)
    finally:
        await gate.close()
        await watch.close()

    assert decision["outcome"] == "PROMOTING"
    assert updated["updatePromotionPolicy"] == {"policy": {"version": 2}, "errors": []}
    assert await shown(world, request) == {
        "status": "PROMOTING",
        "requiredApprovals": 3,
        "policyVersion": 1,
    }
    await drain()
    assert await shown(world, request) == {
        "status": "PROMOTED",
        "requiredApprovals": 3,
        "policyVersion": 1,
    }
