"""HOIST_SMTP_SECURITY: starttls and tls deliver over TLS to a real server, and refuse less.

The server is aiosmtpd with a certificate made here by a throwaway CA; Hoist trusts that CA
through SSL_CERT_FILE (how an operator trusts a private CA) and checks the certificate.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.notifications.providers import DeliveryError, OutgoingEmail, make_provider
from app.settings import Settings
from tests.notifications.mailbox import SmtpServer
from tests.support.certificates import Certificates, make_certificates


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusted(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    """Hoist's TLS client trusts the test CA (and only it) for this test."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificates


@pytest.fixture
def running() -> Iterator[list[SmtpServer]]:
    """Servers a test starts; stopped afterwards even when the test fails."""
    servers: list[SmtpServer] = []
    yield servers
    for server in servers:
        server.stop()


def serve(running: list[SmtpServer], **tls: Any) -> SmtpServer:
    server = SmtpServer(**tls)
    server.start()
    running.append(server)
    return server


def settings(server: SmtpServer, security: str) -> Settings:
    return Settings(
        _env_file=None,
        email_backend="smtp",  # type: ignore[call-arg]
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_security=security,
        smtp_timeout=5.0,
    )


def outgoing(subject: str) -> OutgoingEmail:
    return OutgoingEmail(
        notification_id=1,
        sender="Hoist <hoist@example.com>",
        recipient="ops@example.com",
        subject=subject,
        text=f"{subject} (text)",
        html=f"<p>{subject}</p>",
    )


async def deliver(server: SmtpServer, security: str, subject: str) -> None:
    provider = make_provider(settings(server, security))
    try:
        await provider.open()
        await provider.send(outgoing(subject))
    finally:
        await provider.close()


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_each_tls_mode_delivers_over_tls(
    security: str, trusted: Certificates, running: list[SmtpServer]
) -> None:
    context = trusted.server_context()
    server = serve(running, **{"starttls" if security == "starttls" else "implicit_tls": context})
    await deliver(server, security, f"over {security}")
    [received] = server.mailbox.to("ops@example.com")
    assert received.subject == f"over {security}"
    assert received.text.strip() == f"over {security} (text)"
    assert received.mail_from == "hoist@example.com"
    assert received.tls is True


async def test_none_sends_in_the_clear(running: list[SmtpServer]) -> None:
    """The counterpart that shows `tls` above is measured: a plain session reads False."""
    server = serve(running)
    await deliver(server, "none", "plain")
    [received] = server.mailbox.to("ops@example.com")
    assert received.tls is False


async def test_starttls_refuses_a_server_that_does_not_offer_it(
    trusted: Certificates, running: list[SmtpServer]
) -> None:
    server = serve(running)  # plain SMTP: no STARTTLS in its EHLO answer
    with pytest.raises(DeliveryError, match="STARTTLS"):
        await deliver(server, "starttls", "must not go in the clear")
    assert server.mailbox.received == []


async def test_tls_refuses_a_plain_server(trusted: Certificates, running: list[SmtpServer]) -> None:
    server = serve(running)
    with pytest.raises(DeliveryError):
        await deliver(server, "tls", "must not go in the clear")
    assert server.mailbox.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_an_untrusted_certificate_is_refused(
    security: str,
    certificates: Certificates,
    running: list[SmtpServer],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Trust another CA than the one that signed the server's certificate.
    other = make_certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(other.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = certificates.server_context()
    server = serve(running, **{"starttls" if security == "starttls" else "implicit_tls": context})
    with pytest.raises(DeliveryError, match=r"(?i)certificate"):
        await deliver(server, security, "to an impostor")
    assert server.mailbox.received == []
