"""Domain events: how a domain tells the others what happened without calling them by name.

A domain publishes a typed event inside its unit of work (`await publish(event)`); every
listener registered for that event's type runs right there, in the same transaction, in
registration order, so a listener's writes commit or roll back with the change. A listener
that needs a worker enqueues outbox work (`app.outbox.service.enqueue`), which is handed
over only after commit.

The listening domains register their handlers with `@listener(EventType)` in their
`listeners.py`; `LISTENER_MODULES` names those modules by string, so this module (and the
publishing domains) import none of them. They are imported on the first publish in every
process (server, worker, CLI, tests alike). Order matters where two listeners write the
same log (audit first, so an audit entry precedes the entries its consequences write).

Events carry ids, names and plain values, never ORM rows: a listener re-reads what it
needs, and this module imports no domain.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # events carry who acted; the type only, so no domain is imported
    from app.accounts.access import Access

# Imported on the first publish, in this order (the order listeners run in).
LISTENER_MODULES = (
    "app.catalog.listeners",  # first: it vetoes (RoleScopeNamed) before anything is written
    "app.audit.listeners",
    "app.promotions.listeners",
    "app.notifications.listeners",  # before deployments: a request's emails, then its deploy
    "app.deployments.listeners",
)


# --- accounts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleScopeNamed:
    """A role is about to be granted on (application, environment), named by strings (`*`:
    all). Published before anything is written: the catalog, which knows the names, refuses
    unknown ones by raising NOT_FOUND from its listener, so accounts need not import it."""

    application: str
    environment: str


# --- catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageBuilt:
    """CI registered a new image (catalog.register_image)."""

    image_id: int


@dataclass(frozen=True)
class StageReported:
    """A stage run of an image in a pipeline's environment was reported."""

    pipeline_id: int
    stage_run_id: int


# --- policies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyCreated:
    """A promotion policy was created at version 1; `fields` are its settings but the name."""

    actor: Access
    policy: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class PolicyChanged:
    """A policy was updated to a new version (its open requests are re-evaluated)."""

    actor: Access
    policy_id: int
    policy: str
    previous_name: str
    version: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class PolicyDeleted:
    """A policy was deleted (its pairs' requests were told first, by PairsLostPolicy)."""

    actor: Access
    policy: str


@dataclass(frozen=True)
class PairsLostPolicy:
    """The policy that governed these (application id, environment id) pairs no longer does."""

    actor: Access
    pairs: tuple[tuple[int, int], ...]
    reason: str


@dataclass(frozen=True)
class PairPolicyChanged:
    """One (application, environment) pair got a policy (`policy`) or lost it (None)."""

    actor: Access
    application: str
    environment: str
    policy: str | None


# --- promotions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PromotionRequested:
    """A promotion request was created (followed by its RequestStatusChanged)."""

    actor: Access
    request_id: int
    application: str
    environment: str
    image_id: int
    source: str
    policy: str
    policy_version: int
    status: str
    # The requester's reason when the request breaks glass (a closed promotion window).
    break_glass: str | None = None
    # A WARN policy's failed clauses the request went ahead with, one line each.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestApproved:
    """An approver approved a request (the quorum may or may not be reached)."""

    actor: Access
    request_id: int
    application: str
    environment: str
    comment: str | None


@dataclass(frozen=True)
class RequestStatusChanged:
    """A request entered `status` (a PromotionStatus value); `previous` is None at creation."""

    actor: Access
    request_id: int
    status: str
    previous: str | None
    application_id: int
    environment_id: int
    image_id: int
    application: str
    environment: str
    reason: str | None = None


# --- deployments --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentRolledBack:
    """A rollback (rollbackDeployment) was started: deployment `deployment_id` brings back
    image `image_id`, which SUCCEEDED in the environment before, in place of the newest
    SUCCEEDED deployment `replaced_deployment_id` (of image `replaced_image_id`)."""

    actor: Access
    deployment_id: int
    replaced_deployment_id: int
    application: str
    environment: str
    image_id: int
    replaced_image_id: int
    # The promotion request that brought the replaced deployment's image there; None when
    # it came by the normal path (then nobody is emailed).
    replaced_request_id: int | None


E = TypeVar("E")
Listener = Callable[[Any], Awaitable[None]]

_listeners: dict[type[Any], list[Listener]] = {}
_loaded = False


def listener(
    event_type: type[E],
) -> Callable[[Callable[[E], Awaitable[None]]], Callable[[E], Awaitable[None]]]:
    """Register an async handler to run, in the publisher's transaction, for `event_type`."""

    def register(handler: Callable[[E], Awaitable[None]]) -> Callable[[E], Awaitable[None]]:
        _listeners.setdefault(event_type, []).append(handler)
        return handler

    return register


def load_listeners() -> None:
    """Import the listening domains' modules (once per process); their import registers."""
    global _loaded
    if _loaded:
        return
    for module in LISTENER_MODULES:
        importlib.import_module(module)
    _loaded = True


async def publish(event: object) -> None:
    """Run every listener of the event's type now, inside the caller's unit of work."""
    load_listeners()
    for handler in _listeners.get(type(event), ()):
        await handler(event)
