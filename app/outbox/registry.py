"""Job handlers by name. Domains register theirs; Celery tasks and the embedded worker run them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Awaitable[None]]

HANDLERS: dict[str, Handler] = {}

# Modules whose import registers handlers; every process that runs jobs imports them all.
HANDLER_MODULES = ("app.promotions.jobs", "app.deployments.jobs", "app.notifications.jobs")


def job(name: str) -> Callable[[Handler], Handler]:
    """Register an async handler for jobs called `name` (also the Celery task's name)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def load_handlers() -> dict[str, Handler]:
    import importlib

    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return HANDLERS
