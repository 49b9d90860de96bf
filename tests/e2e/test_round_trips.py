"""Round trips to Postgres of one promote, one approval and one pendingApprovals page.

`hoist serve` in production shape (Postgres, HOIST_BROKER_URL on a private Redis, so the
Celery publish happens) talks to Postgres through a counting proxy
(tests/support/round_trips.py); every BEGIN, COMMIT, SAVEPOINT, pool reset and
statement is a round trip on the wire. A count, not a time; the log of round trips is
the assertion's message when a bound is exceeded.

Each call is measured after one like it warmed the server up, and until the server is
quiet: the jobs it wrote are handed over (which the server does after answering) and no
round trip is waiting for Postgres. No worker runs, so the jobs stay in Redis and
nothing else talks. A trip that only prepares a statement is not counted (see
`executed`).

The bounds are today's counts (bench/README.md, `promotion/`, has them before and
after). Issue 15's goals are 14 per promote and 10 per page: the promote still reads the
token and the role bindings apart, and records its hand-over in a statement of its own;
the page resolves its relations one loader query each. Issue 16 added one trip to the page:
"no approval of mine that still counts" reads the policies with an approvalMaxAge (a
handful of rows) to give each its own cutoff in SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.http_api import Api
from tests.support.live_server import running_server
from tests.support.processes import PrivateRedis
from tests.support.round_trips import PREPARE, RoundTripCounter, counting_proxy
from tests.support.waiting import eventually

# Each includes one read of the target pairs' promotion windows (app/windows: the promote
# reads them for all its targets at once; the approve that reaches the quorum, for its pair).
PROMOTE_AT_MOST = 17
APPROVE_AT_MOST = 15
PENDING_PAGE_AT_MOST = 16
APPROVERS = 3  # each one gets an email: the notifications of a promote are one INSERT

APPROVE = """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids, comment: "ok") {
  results { outcome request { status } } } }"""
PENDING = """{ pendingApprovals(first: 20) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id status comment createdAt requiredApprovals canApprove cannotApproveReason
    image { image tag builtBy { email } } application { name } source { type environment }
    targetEnvironment { name } requestedBy { email } approvals { at user { email } } } } } }"""


class Server:
    """The running server, its counter, and a way to wait until it is quiet."""

    def __init__(self, admin: Api, counter: RoundTripCounter, database_url: str) -> None:
        self.admin = admin
        self.counter = counter
        self.database_url = database_url

    async def _quiet(self) -> bool:
        conn = await asyncpg.connect(self.database_url.replace("postgres://", "postgresql://"))
        try:
            waiting = await conn.fetchval(
                "SELECT count(*) FROM outbox_jobs WHERE handed_over_at IS NULL"
            )
        finally:
            await conn.close()
        return waiting == 0 and self.counter.idle()

    async def trips_of(self, call: Callable[[], Any]) -> list[str]:
        """The round trips the server makes for `call()`, until it is quiet again."""
        await eventually(self._quiet, "the server quiet before the call")
        before = len(self.counter.trips())
        call()
        await eventually(self._quiet, "the server quiet after the call")
        return self.counter.trips()[before:]


@pytest.fixture
def server(pg_url: str, private_redis: PrivateRedis, tmp_path: Path) -> Iterator[Server]:
    with (
        counting_proxy(pg_url) as counter,
        running_server(
            tmp_path,
            HOIST_DATABASE_URL=counter.url(pg_url),
            HOIST_BROKER_URL=private_redis.url,
        ) as live,
    ):
        yield Server(Api(live.url, live.token), counter, pg_url)


def executed(trips: list[str]) -> list[str]:
    """The round trips but those preparing a statement: a pooled connection prepares each
    statement on its first use only, and which connection serves a call is up to the pool."""
    return [t for t in trips if not t.startswith(PREPARE)]


def report(name: str, trips: list[str]) -> str:
    return f"{name}: {len(executed(trips))} round trips, and {len(trips)} with prepares:\n" + (
        "\n".join(trips)
    )


async def test_promote_approve_and_a_pending_page_take_few_round_trips(server: Server) -> None:
    admin = server.admin
    admin.catalog(approvals=1)
    dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
    approvers = [
        admin.user(f"approver{i}@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
        for i in range(APPROVERS)
    ]
    images = [admin.image(f"1.{i}") for i in range(2)]

    def promote(image: str) -> dict[str, Any]:
        [result] = dev.promote(image, ["prod"])
        assert result["outcome"] == "AWAITING_APPROVAL", result
        return result

    def approve(result: dict[str, Any]) -> None:
        data = approvers[0](APPROVE, {"ids": [result["request"]["id"]]})
        [outcome] = data["approvePromotionRequests"]["results"]
        assert outcome["outcome"] == "PROMOTING", outcome

    def pending_page() -> None:
        page = approvers[1](PENDING)["pendingApprovals"]
        assert page["totalCount"] == 1 and len(page["edges"]) == 1, page

    warm = promote(images[0])
    pending_page()
    approve(warm)

    requests: list[dict[str, Any]] = []
    promoted = await server.trips_of(lambda: requests.append(promote(images[1])))
    paged = await server.trips_of(pending_page)
    approved = await server.trips_of(lambda: approve(requests[0]))

    counted = {"promote": promoted, "approve": approved, "pendingApprovals": paged}
    trips = {name: executed(calls) for name, calls in counted.items()}
    message = "\n\n".join(report(name, calls) for name, calls in counted.items())
    assert len(trips["promote"]) <= PROMOTE_AT_MOST, message
    assert len(trips["approve"]) <= APPROVE_AT_MOST, message
    assert len(trips["pendingApprovals"]) <= PENDING_PAGE_AT_MOST, message
    # The promote wrote one email per approver, all in one statement.
    inserts = [t for t in trips["promote"] if t.startswith('INSERT INTO "notifications"')]
    assert len(inserts) == 1, message
