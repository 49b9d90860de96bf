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
at-least-once path. But a loss is never silent: when a process's listener loses Redis,
its subscriptions end with FeedLost (the dashboard polls then, a script re-reads), and
while it is not connected it takes no new ones, so "subscribed" always means "hearing".

Everything here is bounded: subscriptions per process (HOIST_LIVE_MAX_SUBSCRIPTIONS), and
each subscriber's queue (HOIST_LIVE_QUEUE_SIZE). A subscriber that falls that far behind
is ended, its queue emptied, and told so (TooSlow), rather than let memory grow. What a
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
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from app.audit.rows import ROW_ID_KEYS
from app.db import after_commit
from app.settings import get_settings

log = logging.getLogger("hoist.live")

CHANNEL = "hoist:live"
# The actions subscribers hear: a request's and a deployment's life, and stage results.
DOMAINS = ("promotion.", "deployment.", "stage.")
# Redis calls on the publishing side are short: a mutation's answer waits for them.
PUBLISH_TIMEOUT_SECONDS = 1.0
RECONNECT_SECONDS = 1.0
# An API process starts serving once its listener has subscribed, or after this long
# without Redis (it serves all the same, refusing subscriptions until Redis answers).
STARTUP_WAIT_SECONDS = 3.0


class TooManySubscriptions(Exception):
    """This process holds HOIST_LIVE_MAX_SUBSCRIPTIONS already."""

    extensions = {"code": "TOO_MANY_SUBSCRIPTIONS"}


class TooSlow(Exception):
    """The subscriber did not read its events as fast as they came; they were dropped."""

    extensions = {"code": "SUBSCRIBER_TOO_SLOW"}


class FeedLost(Exception):
    """With Redis: this process does not hear the other processes' changes now (Redis went
    away, or has not answered yet), so a subscription would miss events without knowing."""

    extensions = {"code": "LIVE_FEED_LOST"}


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
    ids = {k: v for k, v in data.items() if k in ROW_ID_KEYS and isinstance(v, int)}
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


# One client per event loop (a Celery worker process and tests run several loops), for
# the URL it was made for.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, aioredis.Redis]] = (
    weakref.WeakKeyDictionary()
)


async def _client(url: str) -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    kept = _clients.get(loop)
    if kept is not None and kept[0] == url:
        return kept[1]
    if kept is not None:  # the URL changed (settings reloaded): its sockets are closed now
        await close_publisher()
    client = aioredis.Redis.from_url(
        url,
        socket_timeout=PUBLISH_TIMEOUT_SECONDS,
        socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
        # A pooled connection Redis closed (it restarted) fails its first command: that
        # one is tried again on a new connection (the default retry covers connecting only).
        retry_on_error=[RedisConnectionError],
    )
    _clients[loop] = (url, client)
    return client


async def close_publisher() -> None:
    """Close the connections this event loop published with (before the loop ends: Redis
    connections left to the garbage collector are sockets open until it runs)."""
    kept = _clients.pop(asyncio.get_running_loop(), None)
    if kept is not None:
        with contextlib.suppress(RedisError, OSError):
            await kept[1].aclose()


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
        await (await _client(url)).publish(CHANNEL, change.to_json())
    except (RedisError, OSError) as exc:
        _redis_down_until = time.monotonic() + RECONNECT_SECONDS
        log.warning("live event %s (%s) not published: %s", change.event_id, change.action, exc)


class Subscriber:
    """One subscription's queue of changes it wants, bounded."""

    def __init__(self, wants: Callable[[Change], bool], size: int) -> None:
        self.wants = wants
        # None: the end marker, which wakes a reader waiting when the subscription ends.
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(size)
        self.ended: Exception | None = None

    def offer(self, change: Change) -> None:
        if self.ended is not None or not self.wants(change):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.end(
                TooSlow(
                    f"more than {self.queue.maxsize} events were waiting to be read: "
                    "they were dropped; subscribe again (and read faster)"
                )
            )

    def end(self, reason: Exception) -> None:
        """End the subscription: the next read raises `reason`. The queue is emptied now,
        not when it is read, to free its memory."""
        self.ended = reason
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def next(self, timeout: float) -> Change | None:
        """The next change, or None when none came within `timeout` seconds."""
        if self.ended is not None:
            raise self.ended
        try:
            async with asyncio.timeout(timeout):
                change = await self.queue.get()
        except TimeoutError:
            return None
        if change is None:
            assert self.ended is not None
            raise self.ended
        return change


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
        if redis_url() is not None and not self.listening:
            raise FeedLost(
                "this server is not connected to Redis, which brings the other servers' "
                "changes; read what you need, and subscribe again in a few seconds"
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

    async def listen(self, url: str, connected: asyncio.Event | None = None) -> None:
        """Hand every change on the Redis channel to this process's subscribers, for ever
        (reconnecting after a pause when Redis goes away, which ends the subscriptions of
        the moment); `connected` is set once it first listens."""
        while True:
            client = aioredis.Redis.from_url(url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.listening = True
                    if connected is not None:
                        connected.set()
                    async for message in pubsub.listen():
                        if message["type"] != "message":
                            continue
                        change = Change.from_json(message["data"])
                        if change is not None:
                            self.deliver(change)
            except (RedisError, OSError) as exc:
                log.warning("live events: lost Redis (%s); reconnecting", exc)
            finally:
                if self.listening:
                    self.lose_feed()
                await client.aclose()
            await asyncio.sleep(RECONNECT_SECONDS)

    def lose_feed(self) -> None:
        """Redis went away: every subscription of the moment may miss changes from now on,
        so each ends, told why (its client re-reads and subscribes again)."""
        self.listening = False
        for subscriber in list(self.subscribers):
            subscriber.end(
                FeedLost(
                    "this server lost Redis, which brings the other servers' changes: some "
                    "may have been missed; read again, and subscribe again in a few seconds"
                )
            )

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
    connected = asyncio.Event()
    task = asyncio.create_task(HUB.listen(url, connected))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(STARTUP_WAIT_SECONDS):
            await connected.wait()
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await close_publisher()
