"""Benchmark: live subscriptions, event latency (commit to subscriber) and idle subscribers.

Run from the project root: ``.venv/bin/python bench/live.py [--idle 500] [--events 100]
[--smoke]``. Side by side in one run, two set-ups (the test suite's kit,
tests/support/live_server.py):

- the embedded ``hoist serve`` (SQLite, in-process fan-out), changes made and heard on it;
- two ``hoist serve`` processes on one Postgres database (a scratch one beside the test
  database) and a private Redis: changes made through one and heard on the other.

In each it opens ``--idle`` SSE subscriptions that hear nothing (a viewer of another
application) on the listening process, reads that process's resident memory before and
after, then promotes ``--events`` images one after another while one SSE subscriber
listens, and takes the latency from each change's audit entry (written in the change's
transaction) to the subscriber's receipt. With the idle subscriptions still open, so the
fan-out cost of holding them is in the figure. Prints both and their ratio.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from tests.support.live_server import LiveServer

REQUESTS = """subscription { promotionRequestChanged(application: "shop") {
  eventId action request { id } } }"""
AT = """query($id: ID!) { node(id: $id) { ... on AuditEvent { at } } }"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


WARM_UP = 50  # subscriptions: more than the database pool's connections
BATCH = 50  # subscriptions opened at once


@dataclass
class Figures:
    mib_before: float  # the listening process, warmed up, no subscription open
    mib_idle: float  # with the idle subscriptions open
    p50_ms: float
    p95_ms: float


async def measure(mutate_on: LiveServer, listen_on: LiveServer, idle: int, events: int) -> Figures:
    """Promote `events` images through `mutate_on` while `listen_on` holds `idle` idle SSE
    subscriptions and one listener: its memory per idle subscription, and the latency."""
    from tests.support.http_api import Api
    from tests.support.live_client import sse_subscription, subscribers

    admin = Api(mutate_on.url, mutate_on.token)
    admin.catalog(approvals=1)
    admin('mutation { createApplication(name: "quiet") { errors { message } } }')
    dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
    quiet = admin.user("quiet@example.com", ("VIEWER", "quiet", "*"))
    images = [dev.image(f"9.{i}") for i in range(events)]

    assert listen_on.process is not None
    limits = httpx.Limits(max_connections=idle + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), limits=limits) as http:
        # A first, small round warms the process up (its database pool, first-call code
        # paths), which one of the two set-ups has had from the catalog and the other not;
        # small, so the memory it leaves with the allocator does not hide the real round's.
        async with idle_subscriptions(http, listen_on.url, quiet.token, min(idle, WARM_UP)):
            pass
        await subscribers(listen_on.url, 0)
        before = rss_kib(listen_on.process.pid)
        async with idle_subscriptions(http, listen_on.url, quiet.token, idle):
            after = rss_kib(listen_on.process.pid)
            latencies: list[float] = []
            async with sse_subscription(listen_on.url, dev.token, REQUESTS) as listener:
                await subscribers(listen_on.url, idle + 1)
                for image in images:
                    dev.promote(image, ["prod"])
                    change = (await listener.next())["promotionRequestChanged"]
                    received = time.time()
                    at = admin(AT, {"id": change["eventId"]})["node"]["at"]
                    latencies.append(received - datetime.fromisoformat(at).timestamp())
    ms = [1000 * x for x in latencies]
    return Figures(before / 1024, after / 1024, statistics.median(ms), percentile(ms, 0.95))


@asynccontextmanager
async def idle_subscriptions(
    http: httpx.AsyncClient, url: str, token: str, count: int
) -> AsyncIterator[None]:
    """`count` SSE subscriptions open at `url` (held by the server), closed on exit."""
    from tests.support.live_client import subscribers

    streams = [
        http.stream(
            "POST",
            f"{url}/graphql",
            json={"query": REQUESTS},
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {token}"},
        )
        for _ in range(count)
    ]
    # Opened a batch at a time: a burst of hundreds of sign-ins at once would leave its
    # transient peak (queued database calls) in the resident memory measured.
    opened = []
    for first in range(0, count, BATCH):
        batch = streams[first : first + BATCH]
        opened += await asyncio.gather(*(s.__aenter__() for s in batch))
    try:
        assert all(r.status_code == 200 for r in opened)
        await subscribers(url, count)
        yield
    finally:
        for stream in streams:
            await stream.__aexit__(None, None, None)


@asynccontextmanager
async def two_processes(idle: int) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two `hoist serve` processes on one scratch Postgres database and a private Redis."""
    from tests.support.live_server import running_server
    from tests.support.processes import running_redis
    from tests.support.stack import scratch_database

    work = Path(tempfile.mkdtemp(prefix="hoist-bench-live-redis-"))
    for name in ("a", "b", "redis"):
        (work / name).mkdir()
    name = f"hoist_bench_live_{os.getpid()}"
    async with scratch_database(name) as database:
        with running_redis(work / "redis") as redis:
            settings = {
                "HOIST_LIVE_MAX_SUBSCRIPTIONS": str(idle + 10),
                "HOIST_DATABASE_URL": database,
                "HOIST_BROKER_URL": redis.url,
            }
            with (
                running_server(work / "a", **settings) as a,
                running_server(work / "b", **settings) as b,
            ):
                yield a, b


async def main(idle: int, events: int) -> int:
    from tests.support.live_server import running_server

    settings = {"HOIST_LIVE_MAX_SUBSCRIPTIONS": str(idle + 10)}
    with running_server(Path(tempfile.mkdtemp(prefix="hoist-bench-live-")), **settings) as server:
        embedded = await measure(server, server, idle, events)
    # The change is made through one process and heard on the other, through Redis: what
    # a deployment behind a load balancer sees.
    async with two_processes(idle) as (a, b):
        redis = await measure(a, b, idle, events)

    print(f"{idle} idle SSE subscriptions, {events} promotions, latency audit entry -> subscriber")
    print(f"{'':34} {'embedded':>10} {'2 procs+Redis':>14} {'ratio':>6}")
    for label, one, two in (
        ("resident memory, none open (MiB)", embedded.mib_before, redis.mib_before),
        (f"resident memory, {idle} idle (MiB)", embedded.mib_idle, redis.mib_idle),
        ("latency p50 (ms)", embedded.p50_ms, redis.p50_ms),
        ("latency p95 (ms)", embedded.p95_ms, redis.p95_ms),
    ):
        print(f"{label:34} {one:10.1f} {two:14.1f} {two / one if one else float('nan'):6.2f}")
    print("processes and database removed")
    return 0


if __name__ == "__main__":
    import argparse
    import sys

    # Run as a script: make `tests.support` importable from the project root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument(
        "--smoke", action="store_true", help="10 idle subscriptions, 3 events: checks it runs"
    )
    args = parser.parse_args()
    if args.smoke:
        args.idle, args.events = 10, 3
    sys.exit(asyncio.run(main(args.idle, args.events)))
