"""Delivering notification emails: each at most once, retried with backoff, none lost.

The Notification rows are the durable queue; outbox jobs only wake a worker up.

1. The state change writes the rows (PENDING, due now) and a `notifications.send` job
   in its own transaction; the job is handed to a worker after commit (app.outbox).
2. The job's handler runs inside the outbox's job transaction, where nothing can be
   committed on its own (SQLite has a single connection). So it sends nothing there.
   It fails claims that a dead worker left behind (step 5), and when some of its
   emails are still PENDING it writes a *continuation*: another `notifications.send`
   job for them that is not handed over now; the outbox relay hands it over once it is
   HOIST_OUTBOX_RELAY_AFTER_SECONDS old. Then it asks for `deliver()` after commit.
3. `deliver()` runs outside any transaction. For each PENDING email that is due, it
   *claims* the row: `UPDATE ... SET claimed_by = <token>, attempts = n + 1 WHERE
   state = 'PENDING' AND claimed_by IS NULL AND attempts = n`, committed at once. Only
   the caller that changed the row sends it; a second worker, or the same job run
   twice, changes nothing and moves on. Then, conditional on its claim, the row becomes
   SENT (with sent_at), FAILED (a permanent refusal such as SMTP 5xx, or the last of
   HOIST_EMAIL_MAX_ATTEMPTS attempts), or PENDING again with `next_attempt_at` pushed
   back exponentially (HOIST_EMAIL_RETRY_BASE_SECONDS, doubling, at most
   HOIST_EMAIL_RETRY_MAX_SECONDS) and the error kept. A mail service that can't be
   reached at all (connection refused, timeout, DNS failure) has been told nothing
   about any email: such a try costs no attempt, only `unreachable_tries` grows (it
   spaces the retries, up to the same cap), so an outage of any length loses nothing;
   the rest of the batch waits for the next try rather than each email timing out in
   turn. One SMTP connection serves the batch, and one refused recipient never stops
   the others.
4. When none of the emails is PENDING any more, the continuation is marked done.
   Otherwise it stays: the relay hands it over later, and step 2 runs again for the
   emails whose `next_attempt_at` has come (retries are as punctual as the relay).
5. A worker that dies between claiming an email and recording the outcome leaves the
   one email it was sending in doubt: the server may or may not have taken it. It is
   not sent again (at most once, SPEC §7): once the claim is older than
   HOIST_EMAIL_CLAIM_TIMEOUT_SECONDS, the row turns UNKNOWN with an error that says so.
   A super-admin who finds out it was not delivered can resend it (service.resend).

Every time rule reads app.clock.now(), so tests can let an outage last an hour.

So a worker dying anywhere else loses nothing (unclaimed rows stay PENDING and the
continuation is not done), and no email is ever sent twice by Hoist.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from app import clock
from app.db import after_commit
from app.notifications.models import Notification, NotificationState
from app.notifications.providers import DeliveryError, OutgoingEmail, Provider, make_provider
from app.observability import metrics
from app.outbox import service as outbox
from app.settings import Settings

log = logging.getLogger("hoist.notifications")

SEND_JOB = "notifications.send"
_ERROR_LIMIT = 2000
PENDING, SENT, FAILED = NotificationState.PENDING, NotificationState.SENT, NotificationState.FAILED
UNKNOWN = NotificationState.UNKNOWN


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Wait after the `attempts`-th failed try: base, then twice as long each time, capped."""
    return clock.backoff(
        attempts, settings.email_retry_base_seconds, settings.email_retry_max_seconds
    )


def _after_failure(row: Notification, error: DeliveryError, settings: Settings) -> dict[str, Any]:
    """Column values once a try of `row` (as it was before the try) failed with `error`."""
    message = str(error)[:_ERROR_LIMIT]
    if error.unreachable:
        tries = row.unreachable_tries + 1
        return {
            "attempts": row.attempts,
            "unreachable_tries": tries,
            "error": f"{message} (mail service unreachable; retried until it is back, "
            "using no attempt)",
            "next_attempt_at": clock.now() + backoff(tries, settings),
        }
    attempts = row.attempts + 1
    if error.permanent:
        return {"attempts": attempts, "state": FAILED, "error": message}
    if attempts >= settings.email_max_attempts:
        return {
            "attempts": attempts,
            "state": FAILED,
            "error": f"gave up after {attempts} attempts: {message}",
        }
    return {
        "attempts": attempts,
        "error": message,
        "next_attempt_at": clock.now() + backoff(attempts, settings),
    }


async def prepare(notification_ids: list[int], settings: Settings) -> None:
    """The `notifications.send` handler's work inside the job transaction (steps 2 and 5)."""
    await settle_abandoned_claims(notification_ids, settings)
    if not await Notification.exists(id__in=notification_ids, state=PENDING):
        return  # everything settled: running the job again does nothing
    continuation_id = await outbox.enqueue_fallback(SEND_JOB, notification_ids=notification_ids)
    after_commit(lambda: deliver(notification_ids, settings, continuation_id=continuation_id))


async def settle_abandoned_claims(notification_ids: list[int], settings: Settings) -> int:
    """Claims older than the claim timeout belong to a dead worker: UNKNOWN, never resent."""
    cutoff = clock.now() - timedelta(seconds=settings.email_claim_timeout_seconds)
    return await Notification.filter(
        id__in=notification_ids,
        state=PENDING,
        claimed_by__isnull=False,
        claimed_at__lt=cutoff,
    ).update(
        state=UNKNOWN,
        claimed_by=None,
        error=(
            "the worker sending this email stopped before recording the outcome: it may or may "
            "not have been delivered, and it is not sent again so that nobody gets it twice"
        ),
    )


async def deliver(
    notification_ids: list[int], settings: Settings, *, continuation_id: int | None = None
) -> None:
    """Send the due PENDING emails among `notification_ids` over one connection (step 3)."""
    now = clock.now()
    due = await Notification.filter(
        id__in=notification_ids,
        state=PENDING,
        claimed_by__isnull=True,
        next_attempt_at__lte=now,
    ).order_by("id")
    if due:
        provider = make_provider(settings)
        try:
            await provider.open()
        except DeliveryError as exc:
            log.warning("email provider unavailable, %d email(s) to retry: %s", len(due), exc)
            for row in due:
                _count(settings, exc)
                await _record_failure(row, exc, settings)
        else:
            try:
                for index, row in enumerate(due):
                    lost = await _send_one(provider, row, settings)
                    if lost is not None:  # the service went away: the rest wait with it
                        for rest in due[index + 1 :]:
                            _count(settings, lost)
                            await _record_failure(rest, lost, settings)
                        break
            finally:
                await provider.close()
    if continuation_id is not None and not await Notification.exists(
        id__in=notification_ids, state=PENDING
    ):
        await outbox.finish_fallback(continuation_id)


def outgoing(row: Notification, settings: Settings) -> OutgoingEmail:
    """The stored email as a provider sends it."""
    return OutgoingEmail(
        notification_id=row.id,
        sender=settings.email_sender,
        recipient=row.recipient,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
    )


async def _send_one(
    provider: Provider, row: Notification, settings: Settings
) -> DeliveryError | None:
    """Claim, send and record one email; the error when the service proved unreachable."""
    token = uuid.uuid4().hex
    attempts = row.attempts + 1
    claimed = await Notification.filter(
        id=row.id,
        state=PENDING,
        claimed_by__isnull=True,
        attempts=row.attempts,
    ).update(claimed_by=token, claimed_at=clock.now(), attempts=attempts)
    if not claimed:
        return None  # another worker has it, or had it: theirs to send
    mine = Notification.filter(id=row.id, claimed_by=token)
    try:
        await provider.send(outgoing(row, settings))
    except DeliveryError as exc:
        _count(settings, exc)
        kind = "unreachable" if exc.unreachable else "permanent" if exc.permanent else "transient"
        log.warning(
            "email %s to %s failed (attempt %d, %s): %s", row.id, row.recipient, attempts, kind, exc
        )
        await mine.update(claimed_by=None, claimed_at=None, **_after_failure(row, exc, settings))
        return exc if exc.unreachable else None
    except Exception as exc:
        # Not a failure the provider knows: raised before the email left, so a retry
        # (bounded by the attempts) is safe.
        log.exception("email %s to %s failed unexpectedly", row.id, row.recipient)
        _count(settings, DeliveryError(""))
        await mine.update(
            claimed_by=None,
            claimed_at=None,
            **_after_failure(row, DeliveryError(repr(exc)), settings),
        )
    else:
        _count(settings, None)
        await mine.update(
            state=SENT, sent_at=clock.now(), error=None, claimed_by=None, claimed_at=None
        )
    return None


def _count(settings: Settings, error: DeliveryError | None) -> None:
    """One try of one email in hoist_emails_total: sent (error None), or how it failed."""
    if error is None:
        result = metrics.EMAIL_SENT
    elif error.unreachable:
        result = metrics.EMAIL_UNREACHABLE
    else:
        result = metrics.EMAIL_PERMANENT if error.permanent else metrics.EMAIL_TRANSIENT
    metrics.EMAILS.labels(settings.email_backend, result).inc()


async def _record_failure(row: Notification, error: DeliveryError, settings: Settings) -> None:
    """A try that never reached the provider, recorded if nobody else counted it: one
    attempt, or none when the service was unreachable."""
    await Notification.filter(
        id=row.id,
        state=PENDING,
        claimed_by__isnull=True,
        attempts=row.attempts,
        unreachable_tries=row.unreachable_tries,
    ).update(**_after_failure(row, error, settings))
