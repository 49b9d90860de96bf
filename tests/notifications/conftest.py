"""Notification tests: one real SMTP server per module, Hoist's settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app import clock as app_clock
from app.notifications import links
from app.outbox import service as outbox
from tests.conftest import People
from tests.notifications.helpers import PUBLIC_URL, SENDER, Clock, configure
from tests.notifications.mailbox import Mailbox, SmtpServer
from tests.promotions.world import World, build_world
from tests.support.graphql import GraphQLClient


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    """The module's SMTP server, emptied, with Hoist sending to it."""
    smtp_server.mailbox.clear()
    configure(
        monkeypatch,
        email_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        email_sender=SENDER,
        public_url=PUBLIC_URL,
    )
    return smtp_server.mailbox


@pytest.fixture(autouse=True)
def fresh_link_key() -> Iterator[None]:
    """Each test's database starts without the stored email-link key: so does this process."""
    links.forget_stored_key()
    yield
    links.forget_stored_key()


@pytest.fixture
async def world(gql: GraphQLClient, people: People, admin: str) -> World:
    return await build_world(gql, people, admin)


@pytest.fixture
def no_dispatcher() -> Iterator[None]:
    """For tests that set a dispatcher: none again afterwards."""
    yield
    outbox.set_dispatcher(None)


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Hoist's time rules read this clock during the test; the system clock afterwards."""
    fake = Clock()
    app_clock.set_source(fake.now)
    yield fake
    app_clock.set_source(None)
