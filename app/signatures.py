"""What Hoist's outgoing webhooks share: the signature a receiver checks, and a refusal
told in Hoist's words.

Each POST is signed over `<timestamp>.<body>` with the timestamp sent in
`X-Hoist-Timestamp`, so a receiver that refuses timestamps older than 5 minutes refuses a
captured delivery replayed later (as Stripe's and Slack's webhooks do). Both the
deployment executor (app/deployments/executor.py) and event webhooks (app/webhooks) sign
this way, so a receiver needs one recipe (README, "Verifying a webhook").
"""

from __future__ import annotations

import hashlib
import hmac
from http import HTTPStatus

from app import clock

SIGNATURE_HEADER = "X-Hoist-Signature"
TIMESTAMP_HEADER = "X-Hoist-Timestamp"
DELIVERY_HEADER = "X-Hoist-Delivery"
# What the README tells receivers to accept; Hoist signs each try afresh, so its own
# retries always fall inside it.
REPLAY_WINDOW_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256, keyed with the
    secret, of the ASCII timestamp (Unix seconds), a dot, and the raw body."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, delivery: str, body: bytes, content_type: str) -> dict[str, str]:
    """The headers of one POST, signed now; `delivery` is what receivers deduplicate by."""
    timestamp = int(clock.now().timestamp())
    return {
        "Content-Type": content_type,
        DELIVERY_HEADER: delivery,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def answer_reason(status: int) -> str:
    """A refusal in Hoist's words: the code and its standard phrase, never the receiver's
    text (that can hold anything, and the people who read Hoist's record of it may not
    be the receiver's operators)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "non-standard status"
    return f"HTTP {status} {phrase}"
