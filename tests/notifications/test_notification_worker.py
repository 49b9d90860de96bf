"""The whole path with real processes: API writes, Celery on Redis delivers to an SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from app.ids import global_id
from app.notifications.models import NotificationEvent, NotificationState
from app.outbox import service as outbox
from app.outbox.models import OutboxJob
from app.promotions.models import PromotionRequest
from tests.notifications.helpers import PUBLIC_URL, SENDER, notifications
from tests.notifications.mailbox import Mailbox, SmtpServer
from tests.promotions.world import World, request_row
from tests.support.processes import celery_worker
from tests.support.waiting import eventually
from workers.celery_app import CeleryDispatcher, make_celery


async def test_celery_worker_emails_approvers_then_the_requester(
    world: World,
    db_url: str,
    redis_url: str,
    tmp_path: Path,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
    no_dispatcher: None,
) -> None:
    # The worker runs the periodic relay, as `hoist worker` does by default, every half
    # second: on SQLite shared by two processes a job can meet "database is locked", and
    # the relay is what hands such a job over again (SPEC §8).
    settings = {
        "HOIST_EMAIL_BACKEND": "smtp",
        "HOIST_SMTP_HOST": "127.0.0.1",
        "HOIST_SMTP_PORT": str(smtp_server.port),
        "HOIST_SMTP_SECURITY": "none",
        "HOIST_EMAIL_SENDER": SENDER,
        "HOIST_PUBLIC_URL": PUBLIC_URL,
        "HOIST_OUTBOX_RELAY_AFTER_SECONDS": "0.5",
        "HOIST_OUTBOX_RELAY_INTERVAL_SECONDS": "0.5",
    }
    outbox.set_dispatcher(CeleryDispatcher(make_celery(redis_url)))
    await world.policy("careful", "prod", approver_count=1)
    image = await world.image()

    async def received(count: int) -> bool:
        return len(mailbox.received) >= count

    async def all_done() -> bool:
        return not await OutboxJob.filter(done_at__isnull=True).exists()

    with celery_worker(tmp_path, db_url, redis_url, beat=True, **settings):
        [r] = await world.promote(world.tokens["dev"], image, ["prod"])
        request_id = request_row(r)
        await eventually(lambda: received(2), what="the approvers' emails")
        [d] = await world.decide(world.tokens["approver"], [request_id])
        assert d["outcome"] == "PROMOTING"
        await eventually(lambda: received(3), what="the requester's email")
        await eventually(all_done, what="every outbox job done")

    assert await world.request_status(request_id) == "PROMOTED"
    assert mailbox.recipients() == [
        "approver2@example.com",
        "approver@example.com",
        "dev@example.com",
    ]
    [promoted] = mailbox.to("dev@example.com")
    assert promoted.subject == "Image promoted | Application: shop | Target environment: prod"
    assert promoted.message["From"] == SENDER
    link = quote(global_id("PromotionRequest", request_id), safe="")
    assert f"{PUBLIC_URL}/ui/requests/{link}" in promoted.text
    rows = await notifications()
    assert [(r.state, r.attempts) for r in rows] == [(NotificationState.SENT, 1)] * 3


async def test_celery_beat_expires_and_reminds_each_once(
    world: World,
    db_url: str,
    redis_url: str,
    tmp_path: Path,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
    no_dispatcher: None,
) -> None:
    """The periodic sweeps as `hoist worker --beat` runs them (issue 16). The worker reads
    the system clock, so the scene moves the requests' deadlines into the past instead of
    moving time forward; the sweep runs every half second, so it runs many times."""
    settings = {
        "HOIST_EMAIL_BACKEND": "smtp",
        "HOIST_SMTP_HOST": "127.0.0.1",
        "HOIST_SMTP_PORT": str(smtp_server.port),
        "HOIST_SMTP_SECURITY": "none",
        "HOIST_EMAIL_SENDER": SENDER,
        "HOIST_PUBLIC_URL": PUBLIC_URL,
        "HOIST_OUTBOX_RELAY_AFTER_SECONDS": "0.5",
        "HOIST_OUTBOX_RELAY_INTERVAL_SECONDS": "0.5",
    }
    outbox.set_dispatcher(CeleryDispatcher(make_celery(redis_url)))
    await world.policy(
        "timed", "prod", approver_count=1, request_timeout_seconds=3600, remind_after_seconds=3600
    )
    expiring, reminded = (await world.image("1.0"), await world.image("2.0"))

    async def emails(event: NotificationEvent, count: int) -> bool:
        rows = await notifications(event=event, state=NotificationState.SENT)
        return len(rows) >= count

    with celery_worker(tmp_path, db_url, redis_url, beat=True, **settings):
        [a] = await world.promote(world.tokens["dev"], expiring, ["prod"])
        [b] = await world.promote(world.tokens["dev"], reminded, ["prod"])
        await eventually(
            lambda: emails(NotificationEvent.APPROVAL_REQUESTED, 4), what="approvers' emails"
        )
        past = datetime.now(UTC) - timedelta(minutes=1)
        await PromotionRequest.filter(id=request_row(a)).update(expires_at=past)
        await PromotionRequest.filter(id=request_row(b)).update(next_reminder_at=past)
        await eventually(lambda: emails(NotificationEvent.EXPIRED, 1), what="the expiry email")
        await eventually(lambda: emails(NotificationEvent.REMINDER, 2), what="the reminders")
        # Two more sweeps finish before counting: a repeat would have had its chance.
        seen = _sweeps_done(tmp_path)

        async def swept_twice_more() -> bool:
            return _sweeps_done(tmp_path) >= seen + 2

        await eventually(swept_twice_more, what="two more sweeps")

    assert await world.request_status(request_row(a)) == "EXPIRED"
    assert await world.request_status(request_row(b)) == "AWAITING_APPROVAL"
    [expired] = await notifications(event=NotificationEvent.EXPIRED)
    assert expired.recipient == "dev@example.com"
    reminders = await notifications(event=NotificationEvent.REMINDER)
    assert sorted(r.recipient for r in reminders) == [
        "approver2@example.com",
        "approver@example.com",
    ]
    assert {r.occurrence for r in reminders} == {1}
    assert [m.subject.split(" | ")[0] for m in mailbox.to("dev@example.com")] == [
        "Image promotion request expired"
    ]


def _sweeps_done(data_dir: Path) -> int:
    """How many `outbox.sweep` tasks the worker has finished, from its log."""
    log = (data_dir / "worker.log").read_text(errors="replace")
    return sum(1 for line in log.splitlines() if "outbox.sweep[" in line and "succeeded" in line)
