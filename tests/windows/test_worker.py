"""A real Celery worker on Redis, with beat: its periodic sweep releases the requests a
closed promotion window queued, once the window no longer closes the pair."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.outbox import service as outbox
from app.promotions.models import PromotionRequest
from tests.notifications.helpers import Clock
from tests.promotions.world import World, request_row
from tests.support.processes import celery_worker
from tests.support.waiting import eventually
from tests.windows.conftest import freeze
from workers.celery_app import CeleryDispatcher, make_celery


@pytest.fixture
def dispatch_to() -> Iterator[None]:
    yield
    outbox.set_dispatcher(None)


async def test_the_worker_promotes_queued_requests_in_order_once_the_window_is_gone(
    world: World, clock: Clock, db_url: str, redis_url: str, tmp_path: Path, dispatch_to: None
) -> None:
    outbox.set_dispatcher(CeleryDispatcher(make_celery(redis_url)))
    await world.policy("fast-lane", "prod")
    # A freeze for a day; the worker reads the real time, which the test's clock follows.
    await freeze(world, clock, hours=24)
    ids = []
    for tag in ("1.0", "2.0", "3.0"):
        [r] = await world.promote(world.tokens["dev"], await world.image(tag), ["prod"])
        assert r["outcome"] == "QUEUED", r
        ids.append(request_row(r))
    with celery_worker(
        tmp_path,
        db_url,
        redis_url,
        beat=True,
        HOIST_OUTBOX_RELAY_AFTER_SECONDS="1",
        HOIST_OUTBOX_RELAY_INTERVAL_SECONDS="1",
    ):
        # The worker's sweeps run while the pair is closed: nothing moves.
        eventually(lambda: _swept(tmp_path), what="a sweep by the worker")
        assert {r.status.value for r in await PromotionRequest.all()} == {"QUEUED"}
        deleted = await world.gql(
            'mutation { deletePromotionWindow(name: "freeze") { deleted } }', token=world.admin
        )
        assert deleted["deletePromotionWindow"]["deleted"]

        async def all_promoted() -> bool:
            rows = await PromotionRequest.filter(id__in=ids)
            return all(r.status.value == "PROMOTED" for r in rows)

        await eventually(all_promoted, what="queued requests PROMOTED by the worker's sweep")
    rows = await PromotionRequest.filter(id__in=ids).order_by("id")
    promoted_at = [r.promoted_at for r in rows]
    assert promoted_at == sorted(promoted_at)  # type: ignore[type-var]


def _swept(folder: Path) -> bool:
    """The worker's log shows a sweep task of its beat done at least once."""
    log = folder / "worker.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return "outbox.sweep" in text and "succeeded" in text
