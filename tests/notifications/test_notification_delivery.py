"""Delivery: retries with backoff, permanent refusals, at most once, nothing lost (SPEC §7, §8)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.models import Role
from app.db import unit_of_work
from app.notifications import delivery
from app.notifications.models import NotificationState
from app.notifications.service import request_status_changed
from app.outbox import service as outbox
from app.outbox.embedded import EmbeddedWorker
from app.outbox.models import OutboxJob
from app.promotions.models import PromotionStatus
from app.settings import get_settings
from tests.notifications.helpers import configure, notifications, open_jobs, run_jobs
from tests.notifications.mailbox import Mailbox, SmtpServer
from tests.promotions.world import World, drain, request_row
from tests.support.waiting import eventually

PENDING, SENT, FAILED = NotificationState.PENDING, NotificationState.SENT, NotificationState.FAILED
APPROVERS = ["approver2@example.com", "approver@example.com"]


async def request_approval(world: World) -> int:
    """A request awaiting approval: its emails to the approvers are written, not sent yet."""
    await world.policy("careful", "prod", approver_count=1)
    [r] = await world.promote(world.tokens["dev"], await world.image(), ["prod"])
    return request_row(r)


async def states() -> dict[str, tuple[NotificationState, int]]:
    return {n.recipient: (n.state, n.attempts) for n in await notifications()}


async def test_smtp_down_at_first_is_delivered_once_when_it_is_back(
    world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = SmtpServer()  # not started yet: connection refused
    configure(monkeypatch, smtp_port=later.port, email_retry_base_seconds=0)
    await request_approval(world)
    await run_jobs()
    rows = await notifications()
    # Unreachable: the try is counted apart and uses none of the email's attempts.
    assert [(r.state, r.attempts, r.unreachable_tries) for r in rows] == [(PENDING, 0, 1)] * 2
    assert all("SMTP 127.0.0.1" in (r.error or "") for r in rows)
    assert await open_jobs() == 1  # the continuation, for the relay to hand over

    later.start()
    try:
        await run_jobs()
        assert sorted(later.mailbox.recipients()) == APPROVERS
        assert await states() == {a: (SENT, 1) for a in APPROVERS}
        assert await open_jobs() == 0
        # Everything again: the original job twice over, and a stray duplicate of it.
        for job in await OutboxJob.filter(task=delivery.SEND_JOB):
            await outbox.run_job(job.id)
        async with unit_of_work():
            stray = await outbox.enqueue(delivery.SEND_JOB, notification_ids=[r.id for r in rows])
        assert await outbox.run_job(stray.id)
        await delivery.deliver([r.id for r in rows], get_settings())
        assert sorted(later.mailbox.recipients()) == APPROVERS  # no second copy
    finally:
        later.stop()


async def test_the_relay_delivers_after_an_outage_through_the_embedded_worker(
    world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, no_dispatcher: None
) -> None:
    later = SmtpServer()
    configure(
        monkeypatch, smtp_port=later.port, email_retry_base_seconds=0.01, email_max_attempts=100
    )
    worker = EmbeddedWorker(relay_after=0.1, relay_every=0.05)
    outbox.set_dispatcher(worker)
    await worker.start()
    try:
        await request_approval(world)

        async def tried() -> bool:
            return all(n.unreachable_tries >= 1 and n.error for n in await notifications())

        await eventually(tried, what="a first failed attempt")
        later.start()

        async def delivered() -> bool:
            return all(n.state == SENT for n in await notifications()) and not await open_jobs()

        await eventually(delivered, what="delivery once the SMTP server is back")
    finally:
        await worker.stop()
        later.stop()
    assert sorted(later.mailbox.recipients()) == APPROVERS


async def test_a_refused_recipient_fails_alone_in_a_batch_over_one_connection(
    world: World, mailbox: Mailbox
) -> None:
    await world.user("approver3", (Role.ARTIFACT_PROMOTER, "shop", "*"))
    mailbox.refuse("approver@example.com", "550 5.1.1 No such mailbox")
    await request_approval(world)
    await drain()
    assert await states() == {
        "approver@example.com": (FAILED, 1),
        "approver2@example.com": (SENT, 1),
        "approver3@example.com": (SENT, 1),
    }
    [refused] = await notifications(state=FAILED)
    assert refused.error == "550 5.1.1 No such mailbox" and refused.sent_at is None
    assert mailbox.recipients() == ["approver2@example.com", "approver3@example.com"]
    assert mailbox.connections == 1
    assert await open_jobs() == 0


async def test_a_transient_refusal_waits_its_backoff_then_is_delivered(
    world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, email_retry_base_seconds=30)
    mailbox.refuse("approver@example.com", "451 4.3.0 Try again later", times=1)
    await request_approval(world)
    before = datetime.now(UTC)
    await run_jobs()
    [waiting] = await notifications(state=PENDING)
    assert (waiting.recipient, waiting.attempts) == ("approver@example.com", 1)
    assert waiting.error == "451 4.3.0 Try again later"
    assert before + timedelta(seconds=29) < waiting.next_attempt_at < before + timedelta(seconds=40)
    await run_jobs()  # the relay comes by before the backoff is over: nothing is tried
    assert (await notifications(state=PENDING))[0].attempts == 1
    assert mailbox.recipients() == ["approver2@example.com"]

    # Time passes (the row's due time, not the clock, is what delivery reads).
    await waiting.filter(id=waiting.id).update(next_attempt_at=datetime.now(UTC))
    await run_jobs()
    assert await states() == {"approver@example.com": (SENT, 2), "approver2@example.com": (SENT, 1)}
    assert mailbox.recipients() == APPROVERS
    assert await open_jobs() == 0


async def test_backoff_doubles() -> None:
    settings = get_settings().model_copy(update={"email_retry_base_seconds": 30})
    assert [delivery.backoff(n, settings).total_seconds() for n in (1, 2, 3, 4)] == [
        30,
        60,
        120,
        240,
    ]


async def test_attempts_limit_fails_with_the_last_error(
    world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, email_retry_base_seconds=0, email_max_attempts=3)
    for address in APPROVERS:  # the server answers, and keeps saying "later"
        mailbox.refuse(address, "451 4.3.0 Try again later")
    await request_approval(world)
    await drain()  # every pass is one attempt; the third fails for good
    rows = await notifications()
    assert [(r.state, r.attempts) for r in rows] == [(FAILED, 3)] * 2
    assert all(r.error == "gave up after 3 attempts: 451 4.3.0 Try again later" for r in rows)
    assert await open_jobs() == 0 and mailbox.received == []


async def test_two_workers_at_once_send_each_email_once(world: World, mailbox: Mailbox) -> None:
    await request_approval(world)
    ids = [n.id for n in await notifications()]
    settings = get_settings()
    await asyncio.gather(*(delivery.deliver(ids, settings) for _ in range(3)))
    assert mailbox.recipients() == APPROVERS
    assert await states() == {a: (SENT, 1) for a in APPROVERS}


async def test_an_email_in_doubt_is_never_sent_again(world: World, mailbox: Mailbox) -> None:
    await request_approval(world)
    first, second = await notifications()
    # A worker claimed `first` long ago and died before recording what happened.
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    await first.filter(id=first.id).update(claimed_by="dead", claimed_at=long_ago, attempts=1)
    await drain()
    await first.refresh_from_db()
    assert (first.state, first.claimed_by) == (NotificationState.UNKNOWN, None)
    assert "may or may not have been delivered" in (first.error or "")
    assert mailbox.recipients() == [second.recipient]


async def test_a_fresh_claim_is_left_to_its_worker(world: World, mailbox: Mailbox) -> None:
    await request_approval(world)
    first, second = await notifications()
    await first.filter(id=first.id).update(
        claimed_by="busy", claimed_at=datetime.now(UTC), attempts=1
    )
    await run_jobs()
    await first.refresh_from_db()
    assert (first.state, first.claimed_by) == (PENDING, "busy")
    assert mailbox.recipients() == [second.recipient]
    assert await open_jobs() == 1  # still watched: the relay comes back to it


async def test_emails_live_and_die_with_the_state_change(world: World, mailbox: Mailbox) -> None:
    request_id = await request_approval(world)
    jobs = await OutboxJob.all().count()
    with pytest.raises(RuntimeError):
        async with unit_of_work():
            await request_status_changed(request_id, PromotionStatus.REJECTED)
            raise RuntimeError("the change fails")
    assert await notifications(event="REJECTED") == []
    # Told twice about one event (request, recipient, event): still one email each.
    async with unit_of_work():
        await request_status_changed(request_id, PromotionStatus.AWAITING_APPROVAL)
    assert len(await notifications()) == 2
    assert await OutboxJob.all().count() == jobs


async def test_console_backend_writes_emails_to_the_log(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    configure(monkeypatch, email_backend="console")
    caplog.set_level(logging.INFO, logger="hoist.notifications")
    await request_approval(world)
    await drain()
    assert await states() == {a: (SENT, 1) for a in APPROVERS}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "email to approver@example.com" in logged
    assert "Subject: Image promotion approval requested | Application: shop" in logged
