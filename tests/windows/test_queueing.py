"""While a pair's promotion window is closed, approved requests wait QUEUED and go out in
request order once it opens; deployImage is refused; break glass goes through with extra
approvals (issue 16 item 5). Time is the test's clock; the sweeps are the workers'."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from app.audit.models import AuditEvent
from app.deployments.models import Deployment
from app.ids import global_id
from app.outbox.service import run_sweeps
from app.promotions.models import PromotionRequest
from tests.notifications.helpers import Clock
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import World, drain, request_row
from tests.windows.conftest import freeze

PREVIEW = """query($image: ID!, $targets: [String!]!) {
  promotionPreview(imageId: $image, source: {type: CI}, targetEnvironments: $targets) {
    environment outcome message window { open opensAt closesAt closedBy } } }"""
BREAK_GLASS = """mutation($image: ID!, $reason: String!) {
  promoteImage(imageId: $image, source: {type: CI}, targetEnvironments: ["prod"],
    breakGlass: {reason: $reason}) {
    results { outcome message request { id status breakGlassReason } }
    errors { code field message } } }"""
DEPLOY = """mutation($image: ID!) {
  deployImage(application: "shop", environment: "prod", imageId: $image) {
    deployment { id } errors { code field message } } }"""


async def _sweep_twice_at_once() -> None:
    """Two workers' sweeps at the same moment: every change must happen once."""
    await asyncio.gather(run_sweeps(), run_sweeps())


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def _audit(action: str) -> list[AuditEvent]:
    return await AuditEvent.filter(action=action).order_by("id")


async def test_a_promotion_while_closed_is_queued_and_promoted_in_order_once_open(
    world: World, clock: Clock
) -> None:
    await world.policy("fast-lane", "prod")
    opens = await freeze(world, clock, hours=2)
    first, second = await world.image("1.0"), await world.image("2.0")

    preview = await world.gql(
        PREVIEW,
        {"image": global_id("Image", first), "targets": ["prod"]},
        token=world.tokens["dev"],
    )
    [target] = preview["promotionPreview"]
    assert target["outcome"] == "QUEUED"
    assert target["window"]["open"] is False and target["window"]["closedBy"] == ["freeze"]
    assert _at(target["window"]["opensAt"]) == opens

    ids = []
    for image in (first, second):
        [result] = await world.promote(world.tokens["dev"], image, ["prod"])
        assert result["outcome"] == "QUEUED", result
        assert result["request"]["status"] == "QUEUED"
        assert opens.isoformat().replace("+00:00", "Z") in result["message"]
        ids.append(request_row(result))
    await drain()  # no promote job was written: nothing promotes them
    shown = await world.gql(
        "query($id: ID!) { node(id: $id) { ... on PromotionRequest { status "
        "window { open opensAt closedBy } } } }",
        {"id": global_id("PromotionRequest", ids[0])},
        token=world.tokens["dev"],
    )
    assert shown["node"]["status"] == "QUEUED"
    assert shown["node"]["window"]["open"] is False
    assert _at(shown["node"]["window"]["opensAt"]) == opens
    assert [await world.request_status(i) for i in ids] == ["QUEUED", "QUEUED"]

    clock.advance(2 * 3600 - 120)  # still closed
    await _sweep_twice_at_once()
    assert [await world.request_status(i) for i in ids] == ["QUEUED", "QUEUED"]

    clock.advance(180)  # open now
    await _sweep_twice_at_once()
    rows = await PromotionRequest.filter(id__in=ids).order_by("id")
    assert [r.status.value for r in rows] == ["PROMOTED", "PROMOTED"]
    assert rows[0].promoted_at is not None and rows[1].promoted_at is not None
    assert rows[0].promoted_at <= rows[1].promoted_at
    # Once each: one PROMOTED audit entry per request, though two sweeps ran at once.
    promoted = [e.data["request_id"] for e in await _audit("promotion.promoted")]
    assert promoted == ids
    await drain()  # the promote jobs the release wrote find nothing left to do
    assert [await world.request_status(i) for i in ids] == ["PROMOTED", "PROMOTED"]


async def test_the_quorum_reached_while_closed_queues(world: World, clock: Clock) -> None:
    await world.policy("one-approval", "prod", approver_count=1)
    await freeze(world, clock, hours=1)
    [result] = await world.promote(world.tokens["dev"], await world.image(), ["prod"])
    assert result["outcome"] == "AWAITING_APPROVAL"  # approvals are collected while closed
    request_id = request_row(result)
    [decision] = await world.decide(world.tokens["approver"], [request_id])
    assert decision["outcome"] == "QUEUED", decision
    assert "opens at" in decision["message"]
    assert await world.request_status(request_id) == "QUEUED"

    clock.advance(3600 + 60)
    await _sweep_twice_at_once()
    assert await world.request_status(request_id) == "PROMOTED"


async def test_a_queued_request_can_be_cancelled_and_is_then_not_promoted(
    world: World, clock: Clock
) -> None:
    await world.policy("fast-lane", "prod")
    await freeze(world, clock, hours=1)
    [result] = await world.promote(world.tokens["dev"], await world.image(), ["prod"])
    request_id = request_row(result)
    cancel = """mutation($id: ID!) { cancelPromotionRequest(requestId: $id) {
      request { status } errors { code } } }"""
    data = await world.gql(
        cancel, {"id": global_id("PromotionRequest", request_id)}, token=world.tokens["dev"]
    )
    assert data["cancelPromotionRequest"]["request"]["status"] == "CANCELLED"
    clock.advance(2 * 3600)
    await run_sweeps()
    assert await world.request_status(request_id) == "CANCELLED"


async def test_deploy_image_is_refused_while_closed_with_when_it_opens(
    world: World, clock: Clock
) -> None:
    await world.policy("fast-lane", "prod")
    image = await world.image()
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert result["outcome"] == "PROMOTING"
    await drain()
    opens = await freeze(world, clock, hours=3)

    data = await world.gql(DEPLOY, {"image": global_id("Image", image)}, token=world.tokens["dev"])
    [error] = data["deployImage"]["errors"]
    assert error["code"] == "WINDOW_CLOSED" and error["field"] == "environment"
    assert opens.isoformat().replace("+00:00", "Z") in error["message"]
    assert await Deployment.all().count() == 0

    clock.advance(3 * 3600 + 60)
    data = await world.gql(DEPLOY, {"image": global_id("Image", image)}, token=world.tokens["dev"])
    assert data["deployImage"]["errors"] == [], data
    assert await Deployment.all().count() == 1


async def _break_glass(world: World, token: str, image: int) -> dict[str, Any]:
    data = await world.gql(
        BREAK_GLASS,
        {"image": global_id("Image", image), "reason": "payments are down"},
        token=token,
    )
    payload = data["promoteImage"]
    assert payload["errors"] == [], payload
    [result] = payload["results"]
    return dict(result)


async def test_break_glass_needs_the_extra_approvals_and_the_audit_names_it(
    world: World, clock: Clock
) -> None:
    await world.policy("one-approval", "prod", approver_count=1)  # breakGlassApproverCount 1
    await freeze(world, clock, hours=24)
    result = await _break_glass(world, world.tokens["dev"], await world.image())
    assert result["outcome"] == "AWAITING_APPROVAL"
    assert "2 approval(s) (break glass)" in result["message"]
    assert result["request"]["breakGlassReason"] == "payments are down"
    request_id = request_row(result)

    [first] = await world.decide(world.tokens["approver"], [request_id])
    assert first["outcome"] == "APPROVED" and "1 of 2" in first["message"]
    assert await _audit("promotion.break_glass") == []
    [second] = await world.decide(world.tokens["approver2"], [request_id])
    assert second["outcome"] == "PROMOTING", second  # through the closed window
    await drain()
    assert await world.request_status(request_id) == "PROMOTED"
    [entry] = await _audit("promotion.break_glass")
    assert entry.data["reason"] == "payments are down"
    assert entry.data["request_id"] == request_id and entry.data["closed_by"] == ["freeze"]
    [requested] = await _audit("promotion.requested")
    assert requested.data["break_glass"] == "payments are down"


async def test_every_approver_is_emailed_that_the_request_breaks_glass(
    world: World, clock: Clock, mailbox: Mailbox
) -> None:
    await world.policy("one-approval", "prod", approver_count=1)
    await freeze(world, clock, hours=24)
    await _break_glass(world, world.tokens["dev"], await world.image())
    await drain()
    for approver in ("approver@example.com", "approver2@example.com"):
        [email] = mailbox.to(approver)
        assert email.subject.startswith("BREAK GLASS: Image promotion approval requested")
        assert "payments are down" in email.text
    assert mailbox.to("dev@example.com") == []


async def test_a_super_admin_breaking_glass_cannot_approve_their_own_request(
    world: World, clock: Clock
) -> None:
    await world.policy("one-approval", "prod", approver_count=1)
    await freeze(world, clock, hours=24)
    result = await _break_glass(world, world.admin, await world.image())
    request_id = request_row(result)
    [mine] = await world.decide(world.admin, [request_id])
    assert mine["outcome"] == "REQUESTER_CANNOT_APPROVE"
    assert await world.request_status(request_id) == "AWAITING_APPROVAL"


async def test_a_break_glass_reason_must_say_something(world: World, clock: Clock) -> None:
    await world.policy("fast-lane", "prod")
    data = await world.gql(
        BREAK_GLASS,
        {"image": global_id("Image", await world.image()), "reason": "  "},
        token=world.tokens["dev"],
    )
    assert [(e["code"], e["field"]) for e in data["promoteImage"]["errors"]] == [
        ("VALIDATION", "breakGlass.reason")
    ]
    assert await PromotionRequest.all().count() == 0


async def test_the_automatic_deployment_after_a_break_glass_promotion_waits_for_the_window(
    auto_world: World, clock: Clock
) -> None:
    world = auto_world
    await world.policy("fast-lane", "prod", break_glass_approver_count=0)
    await freeze(world, clock, hours=1)
    result = await _break_glass(world, world.tokens["dev"], await world.image())
    assert result["outcome"] == "PROMOTING"  # no approval needed, through the window
    await drain()
    request_id = request_row(result)
    assert await world.request_status(request_id) == "PROMOTED"
    assert await Deployment.all().count() == 0  # the deployment waits
    assert (await PromotionRequest.get(id=request_id)).auto_deploy_waiting

    await _sweep_twice_at_once()
    assert await Deployment.all().count() == 0  # still closed

    clock.advance(3600 + 60)
    await _sweep_twice_at_once()
    deployments = await Deployment.all()
    assert len(deployments) == 1 and deployments[0].promotion_request_id == request_id
    assert not (await PromotionRequest.get(id=request_id)).auto_deploy_waiting


async def test_removing_the_window_releases_the_queue(world: World, clock: Clock) -> None:
    await world.policy("fast-lane", "prod")
    await freeze(world, clock, hours=48)
    [result] = await world.promote(world.tokens["dev"], await world.image(), ["prod"])
    request_id = request_row(result)
    delete = """mutation { deletePromotionWindow(name: "freeze") { deleted errors { code } } }"""
    assert (await world.gql(delete, token=world.admin))["deletePromotionWindow"]["deleted"]
    await run_sweeps()
    assert await world.request_status(request_id) == "PROMOTED"


async def test_an_open_window_changes_nothing(world: World, clock: Clock) -> None:
    await world.policy("fast-lane", "prod")
    await freeze(world, clock, hours=1)
    clock.advance(2 * 3600)
    [result] = await world.promote(world.tokens["dev"], await world.image(), ["prod"])
    assert result["outcome"] == "PROMOTING"
