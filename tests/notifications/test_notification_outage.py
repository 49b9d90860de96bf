"""A long SMTP outage loses nothing: with the default settings, a server that refuses
connections for 20 minutes (the old attempts gave up after about 7.5) is retried at a
capped interval without using up attempts, and once it is back every email arrives once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from app.notifications.models import NotificationState
from app.settings import get_settings
from tests.notifications.helpers import Clock, configure, notifications, open_jobs, run_jobs
from tests.notifications.mailbox import Mailbox, SmtpServer
from tests.notifications.test_notification_delivery import APPROVERS, request_approval
from tests.promotions.world import World
from tests.support.services import free_port

RELAY_EVERY = 30  # seconds: the default HOIST_OUTBOX_RELAY_AFTER_SECONDS, when the relay
# hands over the continuation job of emails still PENDING


async def test_a_twenty_minute_outage_then_every_email_arrives_once(
    world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    settings = get_settings()
    # Defaults, as shipped: 5 attempts 30 s apart and doubling (gone after 7.5 minutes).
    assert (
        settings.email_max_attempts,
        settings.email_retry_base_seconds,
        settings.email_retry_max_seconds,
    ) == (5, 30, 300)
    down = SmtpServer()  # its port is closed until start(): connection refused
    configure(monkeypatch, smtp_port=down.port)
    await request_approval(world)
    for _ in range(20 * 60 // RELAY_EVERY):  # a worker pass at every relay tick
        await run_jobs()
        clock.advance(RELAY_EVERY)
    rows = await notifications()
    assert [(r.state, r.attempts) for r in rows] == [(NotificationState.PENDING, 0)] * 2
    # Spaced out (30, 60, 120, 240, then every 300 s), not one try per relay pass.
    assert all(5 <= r.unreachable_tries <= 9 for r in rows), [r.unreachable_tries for r in rows]
    assert all("unreachable" in (r.error or "") for r in rows)
    cap = timedelta(seconds=settings.email_retry_max_seconds)
    assert all(r.next_attempt_at <= clock.now() + cap for r in rows)

    down.start()
    try:
        for _ in range(300 // RELAY_EVERY + 1):  # tried again within the capped interval
            clock.advance(RELAY_EVERY)
            await run_jobs()
        for _ in range(10):  # and later passes send nothing again
            clock.advance(RELAY_EVERY * 4)
            await run_jobs()
        assert sorted(down.mailbox.recipients()) == APPROVERS  # each exactly once
    finally:
        down.stop()
    rows = await notifications()
    assert [(r.state, r.attempts) for r in rows] == [(NotificationState.SENT, 1)] * 2
    assert await open_jobs() == 0
    assert mailbox.received == []


@contextmanager
def silent_server() -> Iterator[int]:
    """Takes TCP connections and never says a word: an SMTP greeting that never comes."""
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.mark.parametrize("failure", ["refused", "timeout", "dns"])
async def test_an_unreachable_mail_server_costs_no_attempt(
    world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    with silent_server() as silent:
        where = {
            "refused": {"smtp_port": free_port()},
            "timeout": {"smtp_port": silent, "smtp_timeout": 0.3},
            "dns": {"smtp_host": "no-such-host.invalid", "smtp_timeout": 5},
        }[failure]
        configure(monkeypatch, email_max_attempts=1, **where)
        await request_approval(world)
        await run_jobs()
    rows = await notifications()
    # With a single attempt allowed, anything that used it would be FAILED now.
    assert [(r.state, r.attempts, r.unreachable_tries) for r in rows] == [
        (NotificationState.PENDING, 0, 1)
    ] * 2
    assert all("unreachable" in (r.error or "") for r in rows)
