"""Email providers chosen by HOIST_EMAIL_BACKEND: console (the log), SMTP, Amazon SES.

A provider sends a batch: `open()` once (one SMTP connection, one SES client), `send()`
per email, `close()`. Failures are `DeliveryError`s, transient (retry later) or
permanent (this recipient will never take it). Problems of Hoist's own configuration
(login refused, bad AWS keys) count as transient: fixing the settings then delivers
the emails still within their attempts.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import aiosmtplib

from app.observability import logs
from app.settings import Settings

log = logging.getLogger("hoist.notifications")


@dataclass(frozen=True)
class OutgoingEmail:
    notification_id: int
    sender: str
    recipient: str
    subject: str
    text: str
    html: str


class DeliveryError(Exception):
    """Sending failed; `permanent` when trying again can never help; `unreachable` when
    the mail service could not be reached at all (connection refused, timeout, DNS), so
    nothing was said about this email and the try costs it no attempt."""

    def __init__(self, message: str, *, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


class Provider:
    """A batch of emails over one connection; the base class needs none (console)."""

    async def open(self) -> None:
        """Connect; raise DeliveryError (transient) when the service can't be reached."""

    async def send(self, email: OutgoingEmail) -> None:
        """Send one email; raise DeliveryError when it did not go."""
        raise NotImplementedError

    async def close(self) -> None:
        """Let go of the connection; never raises."""


class ConsoleProvider(Provider):
    """Writes each email to the log: the default, for trying Hoist out. Whole (links and
    all) in the text log format; in the JSON format, which goes to log collectors, only
    who it is for and its subject: never an email's body (README "Logs")."""

    def __init__(self, whole: bool = True) -> None:
        self.whole = whole

    async def send(self, email: OutgoingEmail) -> None:
        if not self.whole:
            log.info(
                "email to %s from %s (its body is not logged in the json log format)\nSubject: %s",
                email.recipient,
                email.sender,
                email.subject,
            )
            return
        log.info(
            "email to %s from %s\nSubject: %s\n\n%s",
            email.recipient,
            email.sender,
            email.subject,
            email.text,
            extra={logs.WHOLE_EMAIL: True},
        )


def mime_message(email: OutgoingEmail) -> EmailMessage:
    """The email as MIME: multipart/alternative with the plain text first, then HTML."""
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    # The same id on every try: a receiving system that saw it already may drop a copy.
    domain = parseaddr(email.sender)[1].rpartition("@")[2] or "hoist.invalid"
    message["Message-ID"] = f"<hoist.notification.{email.notification_id}@{domain}>"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


# Headers folded only past RFC 5322's hard limit: at the usual 78 columns Python folds a
# long subject right after "Subject:", and some readers then show it with a leading space.
_WIRE = email.policy.SMTP.clone(max_line_length=998)


def _smtp_error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _unreachable(exc: Exception) -> bool:
    """A network-level failure to reach the server: refused, timed out, no such host, or
    dropped. Not a TLS failure (certificate, protocol: a configuration problem) nor an
    SMTP answer such as a refused login; a 4xx greeting ("421 busy") is an outage too."""
    if isinstance(exc, ssl.SSLError):
        return False
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return isinstance(exc, aiosmtplib.SMTPConnectResponseError) and exc.code < 500
    return isinstance(exc, OSError)


class SmtpProvider(Provider):
    """aiosmtplib, one connection for the batch (reopened if the server drops it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        self.smtp = await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
        )
        try:
            await smtp.connect()
            if s.smtp_user:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                await smtp.login(s.smtp_user, password)
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise DeliveryError(
                f"SMTP {s.smtp_host}:{s.smtp_port}: {_smtp_error(exc)}",
                unreachable=_unreachable(exc),
            ) from exc
        return smtp

    async def send(self, email: OutgoingEmail) -> None:
        if self.smtp is None or not self.smtp.is_connected:
            self.smtp = await self._connect()
        try:
            await self.smtp.sendmail(
                parseaddr(email.sender)[1],
                [email.recipient],
                mime_message(email).as_bytes(policy=_WIRE),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusals = exc.recipients
            raise DeliveryError(
                "; ".join(f"{r.code} {r.message}" for r in refusals),
                permanent=all(r.code >= 500 for r in refusals),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            self._forget_if_disconnected()
            raise DeliveryError(f"{exc.code} {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # disconnected, timed out
            self._forget_if_disconnected(always=True)
            raise DeliveryError(_smtp_error(exc)) from exc

    def _forget_if_disconnected(self, always: bool = False) -> None:
        if self.smtp is not None and (always or not self.smtp.is_connected):
            self.smtp.close()
            self.smtp = None

    async def close(self) -> None:
        if self.smtp is None:
            return
        try:
            if self.smtp.is_connected:
                await self.smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            pass  # every email is settled already; a failed QUIT changes nothing
        finally:
            self.smtp.close()
            self.smtp = None


# SES answers worth retrying: throttling, SES's own trouble, and Hoist's credentials or
# permissions (a configuration fix, not the recipient, makes those go through).
_SES_TRANSIENT = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "SendingPausedException",
        "ServiceUnavailable",
        "InternalFailure",
        "RequestTimeout",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "AccessDeniedException",
    }
)


def ses_error(exc: Exception) -> DeliveryError:
    """A botocore failure as a DeliveryError: permanent only for an answer about the email."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        transient = code in _SES_TRANSIENT or status == 429 or status >= 500
        return DeliveryError(f"SES {code}: {error.get('Message', '')}", permanent=not transient)
    # Connection refused, timeouts, no credentials found: nothing reached SES.
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    return DeliveryError(
        f"SES: {type(exc).__name__}: {exc}",
        unreachable=isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)),
    )


class SesProvider(Provider):
    """Amazon SES v2 `send_email` through boto3, run in a thread (boto3 blocks)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: Any = None

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        s = self.settings
        keys: dict[str, str] = {}
        if s.ses_access_key_id:
            keys["aws_access_key_id"] = s.ses_access_key_id
            if s.ses_secret_access_key:
                keys["aws_secret_access_key"] = s.ses_secret_access_key.get_secret_value()
        # One try per call: botocore's own retries would resend an email SES may have taken
        # already, and Hoist's retries are counted and visible (attempts, error).
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=30,
        )
        # A session per batch: boto3's default session is not safe to share across threads.
        return boto3.session.Session().client(
            "sesv2",
            region_name=s.ses_region,
            endpoint_url=s.ses_endpoint_url,
            config=config,
            **keys,
        )

    async def open(self) -> None:
        from botocore.exceptions import BotoCoreError

        try:
            self.client = await asyncio.to_thread(self._make_client)
        except BotoCoreError as exc:  # no region, bad endpoint URL
            raise ses_error(exc) from exc

    async def send(self, email: OutgoingEmail) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "FromEmailAddress": email.sender,
            "Destination": {"ToAddresses": [email.recipient]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": email.text, "Charset": "UTF-8"},
                        "Html": {"Data": email.html, "Charset": "UTF-8"},
                    },
                }
            },
        }
        if self.settings.ses_configuration_set:
            request["ConfigurationSetName"] = self.settings.ses_configuration_set
        try:
            await asyncio.to_thread(self.client.send_email, **request)
        except (ClientError, BotoCoreError) as exc:
            raise ses_error(exc) from exc

    async def close(self) -> None:
        if self.client is not None:
            await asyncio.to_thread(self.client.close)
            self.client = None


def make_provider(settings: Settings) -> Provider:
    """The provider HOIST_EMAIL_BACKEND names."""
    if settings.email_backend == "smtp":
        return SmtpProvider(settings)
    if settings.email_backend == "ses":
        return SesProvider(settings)
    return ConsoleProvider(whole=settings.log_format == "text")
