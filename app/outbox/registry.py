"""Job handlers and periodic sweeps by name. Domains register theirs; Celery tasks and the
embedded worker run them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from tortoise.queryset import QuerySet

from app.db import unit_of_work

Handler = Callable[[dict[str, Any]], Awaitable[None]]

HANDLERS: dict[str, Handler] = {}

# A sweep finds what has come due by the clock (a request that ran out of time, a reminder
# to send, a window that opened) and deals with it; it returns how many it changed. It runs
# every HOIST_OUTBOX_RELAY_INTERVAL_SECONDS in every process that runs the relay, maybe in
# several at once, so each change it makes is a conditional one that only one run wins.
Sweep = Callable[[], Awaitable[int]]

SWEEPS: dict[str, Sweep] = {}

# Rows one sweep takes at most; the next run takes the rest.
SWEEP_BATCH = 200


class _Row(Protocol):
    id: int


# Modules whose import registers handlers; every process that runs jobs imports them all.
HANDLER_MODULES = (
    "app.promotions.jobs",
    "app.deployments.jobs",
    "app.notifications.jobs",
    "app.webhooks.jobs",
)


def job(name: str) -> Callable[[Handler], Handler]:
    """Register an async handler for jobs called `name` (also the Celery task's name)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def sweep(name: str) -> Callable[[Sweep], Sweep]:
    """Register a periodic sweep called `name`."""

    def register(function: Sweep) -> Sweep:
        SWEEPS[name] = function
        return function

    return register


async def each_due(due: QuerySet[Any], step: Callable[[int], Awaitable[int]]) -> int:
    """A sweep's loop: `step(id)` for the first SWEEP_BATCH rows of `due` (in the caller's
    order), each in its own transaction, so one row's failure or lost race leaves the
    others done; the sum of what the steps changed."""
    rows: list[_Row] = await due.limit(SWEEP_BATCH).only("id")
    changed = 0
    for row in rows:
        async with unit_of_work():
            changed += await step(row.id)
    return changed


def load_sweeps() -> dict[str, Sweep]:
    load_handlers()
    return SWEEPS


def load_handlers() -> dict[str, Handler]:
    import importlib

    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return HANDLERS
