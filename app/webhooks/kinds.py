"""Which audited actions go out as webhook events, and their CloudEvents `type`.

What a client of Hoist's deliveries cares about is a request's and a deployment's life
and the images they carry; who was granted a role or created a token stays in the audit
log. The list is explicit, so an endpoint naming a type that does not exist is refused
(a typo would otherwise subscribe to nothing, silently); a test checks it against every
action the app records.
"""

from __future__ import annotations

TYPE_PREFIX = "dev.hoist."

ACTIONS = (
    "image.registered",
    "stage.reported",
    "promotion.requested",
    "promotion.approved",
    "promotion.promoting",
    "promotion.promoted",
    "promotion.rejected",
    "promotion.cancelled",
    "promotion.stale",
    "promotion.expired",
    "promotion.queued",
    "promotion.break_glass",
    "deployment.approved",
    "deployment.created",
    "deployment.auto_blocked",
    "deployment.running",
    "deployment.succeeded",
    "deployment.failed",
    "deployment.rolled_back",
)
# Domains whose every action is an event (a new one must be added above: a test says so).
PUBLISHED_DOMAINS = ("image.", "stage.", "promotion.", "deployment.")

TYPES = tuple(TYPE_PREFIX + action for action in ACTIONS)
_BY_ACTION = dict(zip(ACTIONS, TYPES, strict=True))


def event_type(action: str) -> str | None:
    """The CloudEvents type of an audited action; None for one that is not published."""
    return _BY_ACTION.get(action)
