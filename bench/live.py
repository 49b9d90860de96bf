"""Benchmark: live subscriptions, event latency (commit to subscriber) and idle subscribers.

Run from the project root: ``.venv/bin/python bench/live.py [--idle 500] [--events 100]
[--smoke]``. Starts the embedded ``hoist serve`` (the test suite's kit,
tests/support/live_server.py), opens ``--idle`` SSE subscriptions that hear nothing (a
viewer of another application), reads the server's resident memory before and after,
then promotes ``--events`` images one after another while one SSE subscriber listens, and
prints the latency from each change's audit entry (written in the change's transaction)
to the subscriber's receipt, p50 and p95. With the idle subscriptions still open, so the
fan-out cost of holding them is in the figure.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

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


async def main(idle: int, events: int) -> int:
    from tests.support.http_api import Api
    from tests.support.live_client import sse_subscription, subscribers
    from tests.support.live_server import running_server

    settings = {"HOIST_LIVE_MAX_SUBSCRIPTIONS": str(idle + 10)}
    with running_server(Path(tempfile.mkdtemp(prefix="hoist-bench-live-")), **settings) as server:
        assert server.process is not None
        admin = Api(server.url, server.token)
        admin.catalog(approvals=1)
        admin('mutation { createApplication(name: "quiet") { errors { message } } }')
        dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
        quiet = admin.user("quiet@example.com", ("VIEWER", "quiet", "*"))
        images = [dev.image(f"9.{i}") for i in range(events)]

        before = rss_kib(server.process.pid)
        limits = httpx.Limits(max_connections=idle + 10)
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), limits=limits) as http:
            streams = [
                http.stream(
                    "POST",
                    f"{server.url}/graphql",
                    json={"query": REQUESTS},
                    headers={
                        "Accept": "text/event-stream",
                        "Authorization": f"Bearer {quiet.token}",
                    },
                )
                for _ in range(idle)
            ]
            opened = await asyncio.gather(*(s.__aenter__() for s in streams))
            assert all(r.status_code == 200 for r in opened)
            await subscribers(server.url, idle)
            after = rss_kib(server.process.pid)
            print(
                f"{idle} idle SSE subscriptions held by one process: resident memory "
                f"{before / 1024:.1f} MiB -> {after / 1024:.1f} MiB "
                f"({(after - before) / max(idle, 1):.1f} KiB each)"
            )

            latencies: list[float] = []
            async with sse_subscription(server.url, dev.token, REQUESTS) as listener:
                await subscribers(server.url, idle + 1)
                for image in images:
                    dev.promote(image, ["prod"])
                    change = (await listener.next())["promotionRequestChanged"]
                    received = time.time()
                    at = admin(AT, {"id": change["eventId"]})["node"]["at"]
                    latencies.append(received - datetime.fromisoformat(at).timestamp())
            for stream in streams:
                await stream.__aexit__(None, None, None)
        ms = [1000 * x for x in latencies]
        print(
            f"event latency, audit entry -> subscriber, {len(ms)} events over SSE: "
            f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms"
        )
    print("server stopped")
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
