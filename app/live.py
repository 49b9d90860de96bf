"""Live events: each committed change the audit log records, told at once to subscribers.

The audit log is Hoist's one record of what happened, written in the change's own
transaction (app/audit). When it records an action subscribers hear (a promotion
request's, a deployment's or a stage's), it registers an after-commit `publish` of what
the row says (its id, action, application, environment and the row ids of its data), so
nothing is told that was rolled back. With a Redis broker (HOIST_BROKER_URL=redis://...)
the change goes out on one pub/sub channel and every API process's `listening()` task
hands it to its own subscribers; in the embedded default it goes straight to this
process's. Live events are best-effort: a Redis that does not answer loses them (the
change is committed all the same, and logged); webhooks (app/webhooks) are the
at-least-once path.

Everything here is bounded: subscriptions per process (HOIST_LIVE_MAX_SUBSCRIPTIONS), and
each subscriber's queue (HOIST_LIVE_QUEUE_SIZE). A subscriber that falls that far behind
is dropped, its queue emptied, and told so (TooSlow), rather than let memory grow. What a
subscriber may see is its own filter (`wants`), applied before anything is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.db import after_commit
from app.settings import get_settings

log = logging.getLogger("hoist.live")

CHANNEL = "hoist:live"
# The actions subscribers hear: a request's and a deployment's life, and stage results.
DOMAINS = ("promotion.", "deployment.", "stage.")
# Data keys of an audit event that hold row ids, carried with the change.
ID_KEYS = ("request_id", "deployment_id", "image_id", "stage_run_id", "promotion_request_id")
# Redis calls on the publishing side are short: a mutation's answer waits for them.
PUBLISH_TIMEOUT_SECONDS = 1.0
RECONNECT_SECONDS = 1.0


class TooManySubscriptions(Exception):
    """This process holds HOIST_LIVE_MAX_SUBSCRIPTIONS already."""

    extensions = {"code": "TOO_MANY_SUBSCRIPTIONS"}


class TooSlow(Exception):
    """The subscriber did not read its events as fast as they came; they were dropped."""

    extensions = {"code": "SUBSCRIBER_TOO_SLOW"}


@dataclass(frozen=True)
class Change:
    """One committed audit event, as subscribers hear it."""

    event_id: int
    action: str
    application: str | None
    environment: str | None
    ids: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "event_id": self.event_id,
                "action": self.action,
                "application": self.application,
                "environment": self.environment,
                "ids": dict(self.ids),
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Change | None:
        """The change a message carries; None for one that is not (logged)."""
        try:
            data = json.loads(text)
            return cls(
                event_id=int(data["event_id"]),
                action=str(data["action"]),
                application=data["application"],
                environment=data["environment"],
                ids={str(k): int(v) for k, v in data["ids"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored a live message that is not a change: %.200r", text)
            return None


def published(action: str) -> bool:
    return action.startswith(DOMAINS)


def publish_after_commit(
    event_id: int,
    action: str,
    application: str | None,
    environment: str | None,
    data: Mapping[str, Any],
) -> None:
    """Tell subscribers of the audit event once its transaction has committed."""
    if not published(action):
        return
    ids = {k: v for k, v in data.items() if k in ID_KEYS and isinstance(v, int)}
    change = Change(event_id, action, application, environment, ids)
    try:
        after_commit(lambda: publish(change))
    except RuntimeError:
        # Written outside a unit of work (a script calling a service): there is no commit
        # to wait for, so it cannot be known to be committed; nothing is told.
        log.debug("live event %s not published: no unit of work", event_id)


def redis_url() -> str | None:
    """The Redis the live events go through; None: this process only (embedded)."""
    url = get_settings().broker_url
    return url if url and url.startswith(("redis://", "rediss://", "unix://")) else None


# One client per event loop: a Celery worker process and tests run several loops.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def _client(url: str) -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.Redis.from_url(
            url,
            socket_timeout=PUBLISH_TIMEOUT_SECONDS,
            socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
        )
    return client


# After a failed publish, this process does not try Redis again for RECONNECT_SECONDS: a
# mutation's after-commit step must not wait out a connect timeout for each of its events.
_redis_down_until = 0.0


async def publish(change: Change) -> None:
    """Hand a committed change to every API process's subscribers (this one's, embedded)."""
    global _redis_down_until
    url = redis_url()
    if url is None:
        HUB.deliver(change)
        return
    if time.monotonic() < _redis_down_until:
        log.debug("live event %s not published: Redis was unreachable", change.event_id)
        return
    try:
        await _client(url).publish(CHANNEL, change.to_json())
    except (RedisError, OSError) as exc:
        _redis_down_until = time.monotonic() + RECONNECT_SECONDS
        log.warning("live event %s (%s) not published: %s", change.event_id, change.action, exc)


class Subscriber:
    """One subscription's queue of changes it wants, bounded."""

    def __init__(self, wants: Callable[[Change], bool], size: int) -> None:
        self.wants = wants
        self.queue: asyncio.Queue[Change] = asyncio.Queue(size)
        self.overflowed = False

    def offer(self, change: Change) -> None:
        if self.overflowed or not self.wants(change):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():  # free the memory now, not when it is read
                self.queue.get_nowait()

    async def next(self, timeout: float) -> Change | None:
        """The next change, or None when none came within `timeout` seconds."""
        if self.overflowed:
            raise TooSlow(
                f"more than {self.queue.maxsize} events were waiting to be read: "
                "they were dropped; subscribe again (and read faster)"
            )
        try:
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None


class Hub:
    """This process's subscribers, and the Redis listener that feeds them."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.listening = False  # subscribed to the Redis channel now

    @asynccontextmanager
    async def subscription(self, wants: Callable[[Change], bool]) -> AsyncIterator[Subscriber]:
        settings = get_settings()
        if len(self.subscribers) >= settings.live_max_subscriptions:
            raise TooManySubscriptions(
                f"this server holds {settings.live_max_subscriptions} live subscriptions "
                "already; try again later"
            )
        subscriber = Subscriber(wants, settings.live_queue_size)
        self.subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self.subscribers.discard(subscriber)

    def deliver(self, change: Change) -> None:
        for subscriber in list(self.subscribers):
            subscriber.offer(change)

    async def listen(self, url: str) -> None:
        """Hand every change on the Redis channel to this process's subscribers, for ever
        (reconnecting after a pause when Redis goes away)."""
        while True:
            client = aioredis.Redis.from_url(url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.listening = True
                    async for message in pubsub.listen():
                        if message["type"] != "message":
                            continue
                        change = Change.from_json(message["data"])
                        if change is not None:
                            self.deliver(change)
            except (RedisError, OSError) as exc:
                log.warning("live events: lost Redis (%s); reconnecting", exc)
            finally:
                self.listening = False
                await client.aclose()
            await asyncio.sleep(RECONNECT_SECONDS)

    def status(self) -> dict[str, object]:
        """For /healthz: how many subscribers, and whether Redis feeds them."""
        return {
            "subscribers": len(self.subscribers),
            "listening": self.listening if redis_url() else True,
        }


HUB = Hub()


@asynccontextmanager
async def listening() -> AsyncIterator[None]:
    """An API process's lifespan: with Redis, the listener task runs while it serves."""
    url = redis_url()
    if url is None:
        yield
        return
    task = asyncio.create_task(HUB.listen(url))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
