"""Benchmark: emails per second through Hoist's SMTP provider into a local aiosmtpd server.

Run from the project root: ``.venv/bin/python bench/emails.py [--count 500] [--smoke]``
(``--smoke``: 20 emails, a check that the script runs). Renders real
approval emails (app.notifications.content) and sends them with
app.notifications.providers.SmtpProvider: once over one connection for the whole batch
(what the worker does), once with a connection per email, and prints both rates.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time

from aiosmtpd.controller import Controller

from app.notifications.content import RequestFacts, render
from app.notifications.models import NotificationEvent
from app.notifications.providers import OutgoingEmail, SmtpProvider
from app.settings import Settings


class Sink:
    """Accepts and counts every message."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def emails(count: int) -> list[OutgoingEmail]:
    facts = RequestFacts(
        request_id=1,
        application="shop",
        environment="prod",
        image="registry.example.com/shop:1.4.2",
        source="CI",
        requester="Dana Developer",
        comment="VAT hotfix <b>now</b>",
        policy="prod-hotfix",
        required_approvals=1,
        approvers=(),
        link="http://127.0.0.1:8000/ui/requests/1",
    )
    rendered = render(NotificationEvent.APPROVAL_REQUESTED, facts, "Avery Approver")
    return [
        OutgoingEmail(
            i,
            "hoist@example.com",
            f"approver{i}@example.com",
            rendered.subject,
            rendered.text,
            rendered.html,
        )
        for i in range(count)
    ]


async def one_connection(settings: Settings, batch: list[OutgoingEmail]) -> float:
    provider = SmtpProvider(settings)
    started = time.perf_counter()
    await provider.open()
    for email in batch:
        await provider.send(email)
    await provider.close()
    return time.perf_counter() - started


async def connection_each(settings: Settings, batch: list[OutgoingEmail]) -> float:
    started = time.perf_counter()
    for email in batch:
        provider = SmtpProvider(settings)
        await provider.open()
        await provider.send(email)
        await provider.close()
    return time.perf_counter() - started


async def main(count: int) -> None:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = Settings(email_backend="smtp", smtp_host="127.0.0.1", smtp_port=port)
        batch = emails(count)
        await one_connection(settings, batch[:10])  # warm-up
        single = await one_connection(settings, batch)
        each = await connection_each(settings, batch)
    finally:
        controller.stop()
    print(f"{count} approval emails (text + HTML) into aiosmtpd on 127.0.0.1:")
    print(f"  one connection for the batch: {count / single:7.0f} emails/s ({single:.2f} s)")
    print(f"  a connection per email:       {count / each:7.0f} emails/s ({each:.2f} s)")
    print(f"  server received {sink.received} messages")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--smoke", action="store_true", help="20 emails, about a second")
    args = parser.parse_args()
    asyncio.run(main(20 if args.smoke else args.count))
