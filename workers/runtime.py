"""One event loop and one Tortoise context per worker process (or thread), reused by every task.

Celery has no asyncio support; `asyncio.run` per task with Tortoise set up and torn
down each time costs about 12x more, so tasks run on a loop kept for the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.context import TortoiseContext

from app import live
from app.db import tortoise_config
from app.outbox import service as outbox
from workers.celery_app import CeleryDispatcher

T = TypeVar("T")
_local = threading.local()


def _runtime() -> tuple[asyncio.AbstractEventLoop, TortoiseContext]:
    if getattr(_local, "loop", None) is None:
        loop = asyncio.new_event_loop()
        ctx = loop.run_until_complete(Tortoise.init(config=tortoise_config()))
        _local.loop, _local.ctx = loop, ctx
        # Jobs that tasks enqueue go to Celery like the server's do.
        outbox.set_dispatcher(CeleryDispatcher())
    return _local.loop, _local.ctx


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on this thread's loop, inside its Tortoise context."""
    loop, ctx = _runtime()
    with ctx:  # the task the loop makes copies this context, Tortoise's included
        return loop.run_until_complete(coro)


def start() -> None:
    _runtime()


def stop() -> None:
    loop = getattr(_local, "loop", None)
    if loop is None:
        return
    with _local.ctx:
        loop.run_until_complete(live.close_publisher())
        loop.run_until_complete(Tortoise.close_connections())
    loop.close()
    _local.loop = None
