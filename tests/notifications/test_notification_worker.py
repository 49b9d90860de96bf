"""The whole path with real processes: API writes, Celery on Redis delivers to an SMTP server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from app.ids import global_id
from app.notifications.models import NotificationState
from app.outbox import service as outbox
from app.outbox.models import OutboxJob
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
