"""A real SMTP server for tests (aiosmtpd on loopback) that keeps what it receives."""

from __future__ import annotations

import email
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.services import free_port


@dataclass
class Received:
    """One email as the server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool = False  # the message came over an encrypted connection

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "no text/plain part"
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, "no text/html part"
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class Mailbox:
    """aiosmtpd handler: accepts everything except the refusals a test asked for."""

    received: list[Received] = field(default_factory=list)
    connections: int = 0  # EHLO greetings: one per SMTP connection a client opened
    # address -> replies to give to RCPT TO, in order; None in the list: accept.
    _refusals: dict[str, list[str]] = field(default_factory=dict)
    _always: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, address: str, reply: str, times: int | None = None) -> None:
        """Answer RCPT TO:<address> with `reply` the next `times` times (None: always)."""
        with self._lock:
            if times is None:
                self._always[address] = reply
            else:
                self._refusals[address] = [reply] * times

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.connections = 0
            self._refusals.clear()
            self._always.clear()

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def recipients(self) -> list[str]:
        with self._lock:
            return sorted(a for r in self.received for a in r.rcpt_tos)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            if address in self._always:
                return self._always[address]
            queued = self._refusals.get(address)
            if queued:
                return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=default
        )
        assert isinstance(message, EmailMessage)
        # After STARTTLS (or on an implicit-TLS port) the transport is the TLS one.
        tls = server.transport.get_extra_info("ssl_object") is not None
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, tls)
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd Controller on 127.0.0.1 and a port picked here (port 0 does not work).

    `starttls`: offer STARTTLS with this context and refuse MAIL before it; `implicit_tls`:
    speak TLS from the first byte (the `tls` security mode, port 465 style).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.mailbox = Mailbox()
        self.port = port or free_port()
        self.controller: Controller | None = None
        self.starttls = starttls
        self.implicit_tls = implicit_tls

    def start(self) -> None:
        tls: dict[str, Any] = {}
        if self.starttls is not None:
            tls = {"tls_context": self.starttls, "require_starttls": True}
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, ssl_context=self.implicit_tls, **tls
        )
        self.controller.start()  # returns once the server answers

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    """A started SmtpServer on loopback, stopped on exit."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
