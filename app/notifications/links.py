"""Approve or reject from the email (issue 16): signed links that work once.

Each approval email, and each reminder, carries two links per recipient,
`<HOIST_PUBLIC_URL>/email/approve/<token>` and `.../email/reject/<token>`. The link is the
credential (no sign-in), so its token names everything it may do: itsdangerous signs
(request id, the recipient's user id, the action, the expiry). The key is
HOIST_SECRET_KEY or, when that is unset, a random key the first process to need one
makes and keeps in the database (`email_link_keys`), so every server process and worker
mints and reads the same links. A link expires HOIST_EMAIL_LINK_TTL after the email was
written, and never later than the request itself.

Reading a token checks the signature, then signs the claim again and compares the two
tokens exactly: base64 lets some changed characters decode to the same bytes, and a
link with one byte changed must not work.

Opening a link (GET) writes nothing: mail scanners open links. Using one (POST) writes
its `EmailLinkUse` row in the decision's own transaction, unique per (request, recipient,
action): a second use finds the row and changes nothing; a decision the rules refuse
removes the row again, so nothing is half-written. The decision itself is the
promotions service's, run by the door (app/ui/email_actions.py) as the recipient.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from itsdangerous import BadData, URLSafeSerializer

from app import clock
from app.accounts.models import User
from app.db import after_commit, insert_new
from app.notifications.content import DecisionLinks
from app.notifications.models import EmailLinkKey, EmailLinkUse, LinkAction
from app.promotions.models import PromotionRequest
from app.settings import get_settings

# Changing it invalidates every link in every inbox: for a change of the token's form.
_SALT = "hoist.email-link.v1"
_KEY_NAME = "email-links"
# Longer than any token Hoist mints; a longer one is not read at all.
MAX_TOKEN = 400


@dataclass(frozen=True)
class Claim:
    """What one link's token says: who may take which decision on which request, until when."""

    request_id: int
    user_id: int
    action: LinkAction
    expires_at: datetime

    def payload(self) -> list[object]:
        return [self.request_id, self.user_id, self.action.value, int(self.expires_at.timestamp())]


class Signer:
    """Mints and reads link tokens with one key."""

    def __init__(self, key: str) -> None:
        self._serializer = URLSafeSerializer(key, salt=_SALT)

    def token(self, claim: Claim) -> str:
        return self._serializer.dumps(claim.payload())

    def read(self, token: str) -> Claim | None:
        """The claim of a token this key signed, unchanged; None for anything else."""
        if len(token) > MAX_TOKEN:
            return None
        try:
            payload = self._serializer.loads(token)
        except BadData:
            return None
        claim = _claim(payload)
        if claim is None or not hmac.compare_digest(self.token(claim), token):
            return None
        return claim


def _claim(payload: object) -> Claim | None:
    if not isinstance(payload, list) or len(payload) != 4:
        return None
    request_id, user_id, action, expires = payload
    if not all(type(v) is int for v in (request_id, user_id, expires)):
        return None
    if action not in {a.value for a in LinkAction}:
        return None
    try:
        at = datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return Claim(request_id, user_id, LinkAction(action), at)


# The stored key, once this process has read or made it: Hoist never changes the row, so
# a promote pays no round trip for it. Deleting the row rotates the key (every link sent
# stops working); restart the processes after, so none keeps the old one.
_stored_key: str | None = None


async def _key(*, create: bool) -> str | None:
    configured = get_settings().secret_key
    if configured is not None:
        return configured.get_secret_value()
    if _stored_key is not None:
        return _stored_key
    row = await EmailLinkKey.get_or_none(name=_KEY_NAME)
    if row is None and create:
        # Two processes making the first key at once: the unique name keeps one, both use it.
        await insert_new([EmailLinkKey(name=_KEY_NAME, key=secrets.token_urlsafe(32))], "name")
        row = await EmailLinkKey.get(name=_KEY_NAME)
    if row is None:
        return None
    _remember(row.key)
    return row.key


def _remember(key: str) -> None:
    """Keep the key once it is surely committed: a key made (or first read) inside a
    transaction that rolls back must not outlive it in this process alone."""

    async def remember() -> None:
        global _stored_key
        _stored_key = key

    try:
        after_commit(remember)
    except RuntimeError:  # no transaction around: the row read is a committed one
        global _stored_key
        _stored_key = key


def forget_stored_key() -> None:
    """Read the stored key from the database again next time (tests empty the tables)."""
    global _stored_key
    _stored_key = None


async def minting() -> Signer:
    """The signer for new links (the key is made if there is none yet)."""
    key = await _key(create=True)
    assert key is not None
    return Signer(key)


async def reading() -> Signer | None:
    """The signer that reads links; None when no key exists yet (no link can be valid).
    Reads only: opening a link writes nothing, not even a key."""
    key = await _key(create=False)
    return Signer(key) if key is not None else None


def offered(production: bool) -> bool:
    """Whether emails about a request to this kind of environment carry decision links
    (HOIST_EMAIL_ACTIONS), and whether such links may be used now."""
    mode = get_settings().email_actions
    return mode == "all" or (mode == "non-production" and not production)


def expiry(request_expires_at: datetime | None, now: datetime) -> datetime:
    """When links minted now stop working: HOIST_EMAIL_LINK_TTL from now, capped by the
    request's own expiry."""
    until = now + timedelta(seconds=get_settings().email_link_ttl_seconds)
    if request_expires_at is not None:
        until = min(until, request_expires_at)
    # Whole seconds, rounded down, as the token carries it: never past the cap.
    return until.replace(microsecond=0)


def url(public_url: str, action: LinkAction, token: str) -> str:
    return f"{public_url.rstrip('/')}/email/{action.value}/{token}"


def decision_links(
    signer: Signer, request: PromotionRequest, user: User, now: datetime
) -> DecisionLinks:
    """Links for `user` to decide on `request`, expiring per `expiry`."""
    until = expiry(request.expires_at, now)
    public_url = get_settings().public_url

    def link(action: LinkAction) -> str:
        return url(public_url, action, signer.token(Claim(request.id, user.id, action, until)))

    return DecisionLinks(link(LinkAction.APPROVE), link(LinkAction.REJECT), until)


async def use_of(claim: Claim) -> EmailLinkUse | None:
    """The use of this (request, recipient, action) already made, if any."""
    return await EmailLinkUse.get_or_none(
        request_id=claim.request_id, user_id=claim.user_id, action=claim.action
    )


async def record_use(claim: Claim) -> EmailLinkUse | None:
    """Mark the link used, in the decision's transaction; None when it was already (a
    concurrent use waits on the unique index, then finds it taken)."""
    rows = await insert_new(
        [
            EmailLinkUse(
                request_id=claim.request_id,
                user_id=claim.user_id,
                action=claim.action,
                used_at=clock.now(),
            )
        ],
        "request_id",
        "user_id",
        "action",
    )
    return rows[0] if rows else None


async def forget_use(use: EmailLinkUse) -> None:
    """The decision was refused: the link was not used after all."""
    await EmailLinkUse.filter(id=use.id).delete()


class Refusal(StrEnum):
    """Why a link does nothing, before the promotion rules are asked (app/ui/email_pages.py
    says each in words)."""

    TAMPERED = "TAMPERED"  # not a token Hoist signed, or changed since
    GONE = "GONE"  # the request or the recipient's account was deleted
    USED = "USED"
    EXPIRED = "EXPIRED"
    TURNED_OFF = "TURNED_OFF"  # HOIST_EMAIL_ACTIONS=off
    SIGN_IN_REQUIRED = "SIGN_IN_REQUIRED"  # non-production, and this is production
    USER_INACTIVE = "USER_INACTIVE"


@dataclass
class Opened:
    """A link as opened now: its claim, the request and recipient it names, and the
    refusal if it may not be used. `request` comes with what an email about it shows."""

    claim: Claim | None = None
    request: PromotionRequest | None = None
    user: User | None = None
    refusal: Refusal | None = None
    use: EmailLinkUse | None = None


async def open_link(token: str, action: LinkAction) -> Opened:
    """Read the link at /email/<action>/<token> and check what is the link's own business:
    signature, use, expiry, the HOIST_EMAIL_ACTIONS setting, the recipient still active.
    Reads only. The promotion rules come after (app/promotions/deciding.py)."""
    signer = await reading()
    claim = signer.read(token) if signer is not None else None
    if claim is None or claim.action != action:
        return Opened(refusal=Refusal.TAMPERED)
    request = await PromotionRequest.get_or_none(id=claim.request_id).select_related(
        "application", "target_environment", "image", "requested_by", "policy"
    )
    user = await User.get_or_none(id=claim.user_id)
    opened = Opened(claim, request, user)
    if request is None or user is None:
        opened.refusal = Refusal.GONE
    elif (use := await use_of(claim)) is not None:
        opened.refusal, opened.use = Refusal.USED, use
    elif claim.expires_at <= clock.now():
        opened.refusal = Refusal.EXPIRED
    elif not offered(request.target_environment.production):
        opened.refusal = (
            Refusal.TURNED_OFF
            if get_settings().email_actions == "off"
            else Refusal.SIGN_IN_REQUIRED
        )
    elif not user.active:
        opened.refusal = Refusal.USER_INACTIVE
    return opened
