"""A request's life in time (issue 16): requests expire, approvals age out, approvers are
reminded. Time is the test's clock; the sweeps are the ones the workers run."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from app.ids import global_id
from app.notifications.models import NotificationEvent
from app.outbox.service import run_sweeps
from app.promotions.models import PromotionRequest
from tests.notifications.helpers import Clock, notifications
from tests.notifications.mailbox import Mailbox
from tests.promotions.world import CI, World, drain, request_row

HOUR = 3600

REQUEST = """query($id: ID!) { node(id: $id) { ... on PromotionRequest {
  status expiresAt remindersSent nextReminderAt
  approvals { user { email } counts } } } }"""
PREVIEW = """query($image: ID!, $source: ImageSourceInput!, $targets: [String!]!) {
  promotionPreview(imageId: $image, source: $source, targetEnvironments: $targets) {
    outcome expiresAt } }"""


async def _request(world: World, request_id: int) -> dict[str, Any]:
    data = await world.gql(
        REQUEST, {"id": global_id("PromotionRequest", request_id)}, token=world.admin
    )
    return dict(data["node"])


async def _promote(world: World, image: int) -> int:
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert result["outcome"] == "AWAITING_APPROVAL", result
    return request_row(result)


async def _sweep_twice_at_once() -> None:
    """Two workers' sweeps at the same moment: every change must happen once."""
    await asyncio.gather(run_sweeps(), run_sweeps())


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_request_not_approved_in_time_expires_once_and_the_requester_is_told(
    world: World, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("timed", "prod", approver_count=1, request_timeout_seconds=HOUR)
    image = await world.image()
    preview = await world.gql(
        PREVIEW,
        {"image": global_id("Image", image), "source": CI, "targets": ["prod"]},
        token=world.tokens["dev"],
    )
    [target] = preview["promotionPreview"]
    assert abs((_at(target["expiresAt"]) - clock.now()).total_seconds() - HOUR) < 1
    request_id = await _promote(world, image)
    shown = await _request(world, request_id)
    assert abs((_at(shown["expiresAt"]) - clock.now()).total_seconds() - HOUR) < 1

    clock.advance(HOUR - 60)
    await _sweep_twice_at_once()
    assert await world.request_status(request_id) == "AWAITING_APPROVAL"

    clock.advance(120)
    await _sweep_twice_at_once()
    assert await world.request_status(request_id) == "EXPIRED"
    expired = await notifications(request_id=request_id, event=NotificationEvent.EXPIRED)
    assert [n.recipient for n in expired] == ["dev@example.com"]
    await drain()
    [email] = mailbox.to("dev@example.com")
    assert email.subject.startswith("Image promotion request expired")
    assert "time limit" in email.text

    # Closed like CANCELLED: nobody can approve it, and the pair is free again.
    [decided] = await world.decide(world.tokens["approver"], [request_id])
    assert decided["outcome"] == "NOT_PENDING" and "EXPIRED" in decided["message"]
    assert await _promote(world, image) != request_id
    # A later sweep finds nothing more to do.
    await _sweep_twice_at_once()
    assert len(await notifications(event=NotificationEvent.EXPIRED)) == 1


async def test_a_request_without_a_time_limit_never_expires(
    world: World, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("patient", "prod", approver_count=1)
    request_id = await _promote(world, await world.image())
    assert (await _request(world, request_id))["expiresAt"] is None
    clock.advance(365 * 24 * HOUR)
    await run_sweeps()
    assert await world.request_status(request_id) == "AWAITING_APPROVAL"


async def test_undecided_approvers_are_reminded_once_per_period_at_most_max_times(
    world: World, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy(
        "nagging", "prod", approver_count=2, remind_after_seconds=HOUR, max_reminders=2
    )
    request_id = await _promote(world, await world.image())
    await world.decide(world.tokens["approver"], [request_id])  # decided: never reminded
    await drain()
    mailbox.clear()

    await _sweep_twice_at_once()  # not due yet
    assert await notifications(event=NotificationEvent.REMINDER) == []

    for number in (1, 2):
        clock.advance(HOUR + 1)
        await _sweep_twice_at_once()
        reminders = await notifications(event=NotificationEvent.REMINDER)
        assert [(n.recipient, n.occurrence) for n in reminders][-1] == (
            "approver2@example.com",
            number,
        )
        assert len(reminders) == number
    await drain()
    received = mailbox.to("approver2@example.com")
    assert [m.subject.split(" |")[0] for m in received] == [
        "Reminder: image promotion approval requested"
    ] * 2
    assert "still awaits your decision" in received[0].text
    assert mailbox.to("approver@example.com") == []

    clock.advance(10 * HOUR)  # maxReminders reached: no third one
    await _sweep_twice_at_once()
    assert len(await notifications(event=NotificationEvent.REMINDER)) == 2
    shown = await _request(world, request_id)
    assert shown["remindersSent"] == 2 and shown["nextReminderAt"] is None


async def test_reminders_stop_when_the_request_leaves_awaiting_approval(
    world: World, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("nagging", "prod", approver_count=1, remind_after_seconds=HOUR)
    request_id = await _promote(world, await world.image())
    assert (await _request(world, request_id))["nextReminderAt"] is not None
    await world.decide(world.tokens["approver"], [request_id], reason="not now")
    clock.advance(HOUR + 1)
    await run_sweeps()
    assert await notifications(event=NotificationEvent.REMINDER) == []
    assert (await PromotionRequest.get(id=request_id)).reminders_sent == 0


async def test_an_approval_older_than_the_max_age_no_longer_counts_and_can_be_renewed(
    world: World, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("fresh", "prod", approver_count=2, approval_max_age_seconds=HOUR)
    request_id = await _promote(world, await world.image())
    [first] = await world.decide(world.tokens["approver"], [request_id])
    assert first["outcome"] == "APPROVED"

    clock.advance(2 * HOUR)  # Monday's approval, Friday's click
    [second] = await world.decide(world.tokens["approver2"], [request_id])
    assert second["outcome"] == "APPROVED" and "1 of 2" in second["message"]
    shown = await _request(world, request_id)
    assert {a["user"]["email"]: a["counts"] for a in shown["approvals"]} == {
        "approver@example.com": False,
        "approver2@example.com": True,
    }
    # The aged-out approver may approve again: that renews theirs and reaches the quorum.
    [renewed] = await world.decide(world.tokens["approver"], [request_id])
    assert renewed["outcome"] == "PROMOTING", renewed
    [again] = await world.decide(world.tokens["approver"], [request_id])
    assert again["outcome"] == "NOT_PENDING"


async def test_without_a_max_age_old_approvals_keep_counting(
    world: World, mailbox: Mailbox, clock: Clock
) -> None:
    await world.policy("lasting", "prod", approver_count=2)
    request_id = await _promote(world, await world.image())
    await world.decide(world.tokens["approver"], [request_id])
    clock.advance(30 * 24 * HOUR)
    [second] = await world.decide(world.tokens["approver2"], [request_id])
    assert second["outcome"] == "PROMOTING"
