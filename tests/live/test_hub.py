"""The hub's bounds, in one process: a subscriber that falls behind is dropped with an
error and its queue emptied; a full process refuses more subscriptions; a process that
loses Redis ends its subscriptions and takes none until Redis is back."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from app import live
from app.settings import get_settings
from tests.support.processes import running_redis
from tests.support.waiting import eventually


def _change(event_id: int, application: str = "shop") -> live.Change:
    return live.Change(event_id, "promotion.requested", application, "prod", {"request_id": 1})


async def test_a_slow_subscriber_is_dropped_and_holds_no_events() -> None:
    hub = live.Hub()
    size = get_settings().live_queue_size
    async with hub.subscription(lambda change: change.application == "shop") as subscriber:
        hub.deliver(_change(0, "other"))  # not wanted: never queued
        for event_id in range(1, size + 1):
            hub.deliver(_change(event_id))
        assert subscriber.queue.qsize() == size
        assert (await subscriber.next(1.0)) == _change(1)
        hub.deliver(_change(size + 1))
        hub.deliver(_change(size + 2))  # one more than the queue holds
        assert isinstance(subscriber.ended, live.TooSlow)
        assert subscriber.queue.qsize() == 1  # the end marker alone: the events are freed
        with pytest.raises(live.TooSlow):
            await subscriber.next(1.0)
        hub.deliver(_change(size + 3))  # an ended subscriber queues nothing more
        assert subscriber.queue.qsize() == 1
    assert hub.subscribers == set()


async def test_a_full_process_refuses_more_subscriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "live_max_subscriptions", 1)
    hub = live.Hub()
    async with hub.subscription(lambda change: True):
        with pytest.raises(live.TooManySubscriptions):
            async with hub.subscription(lambda change: True):
                pass
    async with hub.subscription(lambda change: True):  # the first let go: room again
        pass


def test_a_message_that_is_not_a_change_is_ignored() -> None:
    change = _change(7)
    assert live.Change.from_json(change.to_json()) == change
    assert live.Change.from_json(b'{"event_id": "x"}') is None
    assert live.Change.from_json(b"not json") is None


async def test_an_unreachable_redis_costs_a_mutation_one_timeout_then_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing listens on port 1: the first publish fails (logged); the next ones within
    # RECONNECT_SECONDS do not try, so the events of one mutation cost one timeout at most.
    monkeypatch.setattr(get_settings(), "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(live, "_redis_down_until", 0.0)
    await live.publish(_change(1))
    assert live._redis_down_until > 0
    down_until = live._redis_down_until
    await live.publish(_change(2))
    assert live._redis_down_until == down_until  # not tried again


async def test_losing_redis_ends_the_subscriptions_and_refuses_new_ones_until_it_is_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with running_redis(tmp_path) as redis:
        monkeypatch.setattr(get_settings(), "broker_url", redis.url)
        monkeypatch.setattr(live, "_redis_down_until", 0.0)  # an earlier test's failure
        hub = live.Hub()
        with pytest.raises(live.FeedLost):  # not listening yet: it would hear nothing
            async with hub.subscription(lambda change: True):
                pass
        connected = asyncio.Event()
        listener = asyncio.create_task(hub.listen(redis.url, connected))
        try:
            await asyncio.wait_for(connected.wait(), 10)
            async with hub.subscription(lambda change: True) as subscriber:
                await live.publish(_change(1))  # through Redis, back to the listener
                assert (await subscriber.next(10.0)) == _change(1)
                waiting = asyncio.create_task(subscriber.next(30.0))
                redis.stop()
                with pytest.raises(live.FeedLost):  # a reader waiting wakes to the loss
                    await asyncio.wait_for(waiting, 10)
            assert not hub.listening
            with pytest.raises(live.FeedLost):
                async with hub.subscription(lambda change: True):
                    pass

            redis.start()

            async def listening() -> bool:  # async: the listener runs on this loop
                return hub.listening

            await eventually(listening, "the listener back on Redis")
            async with hub.subscription(lambda change: True) as subscriber:
                # Another process's publish (a client of its own): heard again.
                other = aioredis.Redis.from_url(redis.url)
                try:
                    await other.publish(live.CHANNEL, _change(2).to_json())
                finally:
                    await other.aclose()
                assert (await subscriber.next(10.0)) == _change(2)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener


async def test_publishing_leaves_no_connection_open_to_a_redis_it_no_longer_uses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The publish client is replaced when the URL changes, and closed when the process
    stops (live.listening, the worker's runtime): its connections are closed then, not
    left to the garbage collector."""

    async def clients(url: str) -> int:  # besides the one asking
        probe = aioredis.Redis.from_url(url)
        try:
            return int((await probe.info("clients"))["connected_clients"]) - 1
        finally:
            await probe.aclose()

    monkeypatch.setattr(live, "_redis_down_until", 0.0)  # an earlier test's failure
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_redis(tmp_path / "a") as first, running_redis(tmp_path / "b") as second:
        monkeypatch.setattr(get_settings(), "broker_url", first.url)
        await live.publish(_change(1))
        assert await clients(first.url) == 1
        monkeypatch.setattr(get_settings(), "broker_url", second.url)
        await live.publish(_change(2))
        assert await clients(second.url) == 1

        async def first_released() -> bool:
            return await clients(first.url) == 0

        await eventually(first_released, "the first Redis's publish connection closed")
        await live.close_publisher()

        async def second_released() -> bool:
            return await clients(second.url) == 0

        await eventually(second_released, "the second Redis's publish connection closed")
