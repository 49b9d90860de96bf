"""Emails in doubt are visible as UNKNOWN; a super-admin resends FAILED and UNKNOWN ones
(GraphQL, and `hoist resend notifications` through the API), all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from app.audit.models import AuditEvent
from app.ids import global_id
from app.notifications.models import Notification, NotificationEvent, NotificationState
from tests.cli.runner import as_json, failed, hoist, succeeded
from tests.conftest import People
from tests.notifications.helpers import SENDER, notifications, run_jobs
from tests.notifications.mailbox import Mailbox, SmtpServer
from tests.notifications.test_notification_delivery import request_approval
from tests.promotions.world import World, drain
from tests.support.catalog import refused as refusal
from tests.support.live_server import running_server
from tests.support.waiting import eventually

STATES = """query($state: NotificationState) { notifications(state: $state) {
  edges { node { id recipient state attempts unreachableTries error } } } }"""
RESEND = """mutation($ids: [ID!]!) { resendNotifications(ids: $ids) {
  notifications { id recipient state attempts error } errors { code message field } } }"""
FAILED, UNKNOWN = NotificationState.FAILED, NotificationState.UNKNOWN


async def failed_and_in_doubt(world: World, mailbox: Mailbox) -> tuple[int, int]:
    """approver@'s email refused for good (FAILED); approver2@'s sender died mid-send."""
    mailbox.refuse("approver@example.com", "550 5.1.1 No such mailbox", times=1)
    await request_approval(world)
    by_recipient = {n.recipient: n for n in await notifications()}
    refused, doubtful = by_recipient["approver@example.com"], by_recipient["approver2@example.com"]
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    await Notification.filter(id=doubtful.id).update(
        claimed_by="dead", claimed_at=long_ago, attempts=1
    )
    await drain()
    return refused.id, doubtful.id


async def test_an_email_in_doubt_is_listed_as_unknown(world: World, mailbox: Mailbox) -> None:
    refused, doubtful = await failed_and_in_doubt(world, mailbox)
    data = await world.gql(STATES, {"state": "UNKNOWN"}, token=world.admin)
    [node] = [e["node"] for e in data["notifications"]["edges"]]
    assert (node["id"], node["state"]) == (global_id("Notification", doubtful), "UNKNOWN")
    assert "may or may not have been delivered" in node["error"]
    data = await world.gql(STATES, {"state": "FAILED"}, token=world.admin)
    assert [e["node"]["id"] for e in data["notifications"]["edges"]] == [
        global_id("Notification", refused)
    ]
    assert mailbox.received == []


async def test_a_super_admin_resends_failed_and_unknown_emails(
    world: World, mailbox: Mailbox
) -> None:
    refused, doubtful = await failed_and_in_doubt(world, mailbox)
    ids = [global_id("Notification", refused), global_id("Notification", doubtful)]
    body = await world.gql.raw(RESEND, {"ids": ids}, token=world.tokens["viewer"])
    assert refusal(body, "resendNotifications") == "FORBIDDEN"
    assert (await Notification.get(id=doubtful)).state == UNKNOWN
    # All or nothing: one SENT email in the list, and nothing changes.
    await Notification.filter(id=refused).update(state=NotificationState.SENT)
    answer = (await world.gql(RESEND, {"ids": ids[::-1]}, token=world.admin))["resendNotifications"]
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("NOT_RESENDABLE", "ids.1")]
    assert (await Notification.get(id=doubtful)).state == UNKNOWN
    await Notification.filter(id=refused).update(state=FAILED)
    for bad, code in (
        ([global_id("Notification", 999999)], "NOT_FOUND"),
        (["999999"], "NOT_FOUND"),  # a bare row id is no id
        ([global_id("PromotionRequest", refused)], "NOT_FOUND"),  # another type's
        ([], "VALIDATION"),
        ([ids[0]] * 101, "VALIDATION"),
    ):
        answer = (await world.gql(RESEND, {"ids": bad}, token=world.admin))["resendNotifications"]
        assert [e["code"] for e in answer["errors"]] == [code], bad

    answer = (await world.gql(RESEND, {"ids": ids}, token=world.admin))["resendNotifications"]
    assert answer["errors"] == []
    assert [(n["state"], n["attempts"], n["error"]) for n in answer["notifications"]] == [
        ("PENDING", 0, None)
    ] * 2
    await run_jobs()  # the job the resend wrote
    assert sorted(mailbox.recipients()) == ["approver2@example.com", "approver@example.com"]
    assert [n.state for n in await notifications()] == [NotificationState.SENT] * 2
    events = await AuditEvent.filter(action="notification.resent").order_by("id")
    assert len(events) == 2 and {
        (e.data["notification_id"], e.data["previous_state"]) for e in events
    } == {(refused, "FAILED"), (doubtful, "UNKNOWN")}


async def test_hoist_resend_notifications_through_the_api(
    db_url: str, tmp_path: Path, people: People, smtp_server: SmtpServer, mailbox: Mailbox
) -> None:
    """`hoist serve` sends what `hoist resend notifications` (over GraphQL) made PENDING."""
    row = await Notification.create(
        event=NotificationEvent.PROMOTED,
        recipient="dev@example.com",
        subject="Image promoted | Application: shop | Target environment: prod",
        text_body="Your promotion request is done.\n",
        html_body="<p>done</p>",
        state=FAILED,
        attempts=5,
        error="gave up after 5 attempts: 451 4.3.0 later",
        next_attempt_at=datetime.now(UTC),
    )
    settings = {
        "HOIST_DATABASE_URL": db_url,
        "HOIST_EMAIL_BACKEND": "smtp",
        "HOIST_SMTP_HOST": "127.0.0.1",
        "HOIST_SMTP_PORT": str(smtp_server.port),
        "HOIST_EMAIL_SENDER": SENDER,
    }
    with running_server(tmp_path, **settings) as server:
        [listed] = as_json(
            hoist(server, tmp_path, "get", "notifications", "--state", "FAILED", "-o", "json")
        )
        email = global_id("Notification", row.id)
        assert (listed["id"], listed["state"], listed["attempts"]) == (email, "FAILED", 5)
        text = succeeded(hoist(server, tmp_path, "resend", "notifications", email))
        assert text == f"email {email} to dev@example.com is PENDING again\n"

        async def delivered() -> bool:
            return (await Notification.get(id=row.id)).state == NotificationState.SENT

        await eventually(delivered, what="the resent email SENT by the server's worker")
        assert mailbox.recipients() == ["dev@example.com"]
        refused = failed(
            hoist(server, tmp_path, "resend", "notifications", email),
            1,
            "NOT_RESENDABLE",
            "only FAILED or UNKNOWN ones can be resent",
        )
        assert "ids.0" in refused
        viewer = await people.token("viewer@example.com")
        failed(
            hoist(server, tmp_path, "resend", "notifications", email, HOIST_TOKEN=viewer),
            3,
            "FORBIDDEN",
        )
        assert httpx.get(f"{server.url}/healthz").json()["deadJobs"] == 0
    assert listed["error"] == "gave up after 5 attempts: 451 4.3.0 later"
