"""Load: many concurrent clients mixing promote, approve, pendingApprovals and deploy.

Run by hand: ``.venv/bin/python bench/load.py [--clients 200] [--seconds 30]``. It starts
its own Postgres database, Redis, ``hoist serve`` and ``hoist worker`` (the same stack as
bench/promotion.py), drives the mix, then prints throughput, latency percentiles per
operation, server errors, and the invariants checked straight in the database. The test
suite runs a short version (tests/e2e/test_load.py) through ``drive`` and ``invariants``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

PROMOTE = """mutation($i: ID!) { promoteImage(imageId: $i, source: {type: CI},
  targetEnvironments: ["prod"]) { results { outcome } } }"""
PENDING = """{ pendingApprovals(first: 20) { edges { node { id } } } }"""
APPROVE = """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids) {
  results { outcome } } }"""
DEPLOYABLE = """{ deployableImages(application: "shop", environment: "prod") {
  image { id } deployable } }"""
DEPLOY = """mutation($i: ID!) { deployImage(application: "shop", environment: "prod",
  imageId: $i) { deployment { id } errors { code } } }"""

# How often each client picks each operation.
MIX = {"promote": 3, "pending": 3, "approve": 3, "deploy": 1}


@dataclass
class Report:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def lines(self) -> list[str]:
        out = [f"{self.requests} requests in {self.seconds:.1f} s: "
               f"{self.requests / self.seconds:.0f} req/s; HTTP {dict(self.statuses)}; "
               f"server errors: {len(self.server_errors)}"]
        for op, values in sorted(self.latencies.items()):
            q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
            out.append(f"  {op:8} n={len(values):6}  p50={q[49] * 1000:7.1f} ms  "
                       f"p95={q[94] * 1000:7.1f} ms  p99={q[98] * 1000:7.1f} ms")
        return out


@dataclass
class Actors:
    """Tokens of the people the load acts as, and the images it promotes."""

    builders: list[str]
    approvers: list[str]
    images: list[str]


async def _call(http: httpx.AsyncClient, report: Report, op: str, token: str, query: str,
                variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
    started = time.perf_counter()
    try:
        response = await http.post("/graphql", json={"query": query,
                                                     "variables": variables or {}},
                                   headers={"Authorization": f"Bearer {token}"})
    except httpx.TransportError as exc:
        report.server_errors.append(f"{op}: {type(exc).__name__}")
        return None
    report.latencies[op].append(time.perf_counter() - started)
    report.statuses[response.status_code] += 1
    if response.status_code >= 500:
        report.server_errors.append(f"{op}: HTTP {response.status_code}")
        return None
    body = response.json()
    for error in body.get("errors") or []:
        # A masked crash is a server error even though HTTP said 200.
        report.server_errors.append(f"{op}: {error.get('message')}")
    return body.get("data")


async def _client(http: httpx.AsyncClient, actors: Actors, report: Report, deadline: float,
                  rng: random.Random) -> None:
    ops, weights = zip(*MIX.items(), strict=True)
    while time.monotonic() < deadline:
        op = rng.choices(ops, weights)[0]
        if op == "promote":
            await _call(http, report, op, rng.choice(actors.builders), PROMOTE,
                        {"i": rng.choice(actors.images)})
        elif op == "pending":
            await _call(http, report, op, rng.choice(actors.approvers), PENDING)
        elif op == "approve":
            approver = rng.choice(actors.approvers)
            data = await _call(http, report, "pending", approver, PENDING)
            ids = [e["node"]["id"] for e in (data or {}).get("pendingApprovals",
                                                             {}).get("edges", [])]
            if ids:
                await _call(http, report, op, approver, APPROVE, {"ids": [rng.choice(ids)]})
        else:
            builder = rng.choice(actors.builders)
            data = await _call(http, report, "deployable", builder, DEPLOYABLE)
            ready = [d["image"]["id"] for d in (data or {}).get("deployableImages", [])
                     if d["deployable"]]
            if ready:
                await _call(http, report, op, builder, DEPLOY, {"i": rng.choice(ready)})


async def drive(url: str, actors: Actors, clients: int, seconds: float, seed: int = 1
                ) -> Report:
    """Run `clients` concurrent clients for `seconds` against the server at `url`."""
    report = Report()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(_client(http, actors, report, deadline, random.Random(seed + i))
                               for i in range(clients)))
        report.seconds = time.monotonic() - started
    return report


async def invariants(dsn: str) -> dict[str, int]:
    """Violations found straight in the database (every count must be 0)."""
    conn = await asyncpg.connect(dsn.replace("postgres://", "postgresql://", 1))
    try:
        return {
            "open requests sharing an (image, target)": await conn.fetchval("""
                SELECT count(*) FROM (SELECT image_id, target_environment_id
                FROM promotion_requests WHERE status IN
                ('AWAITING_APPROVAL', 'PROMOTING', 'PROMOTED')
                GROUP BY 1, 2 HAVING count(*) > 1) t"""),
            "users who approved one request twice": await conn.fetchval("""
                SELECT count(*) FROM (SELECT request_id, user_id FROM promotion_decisions
                WHERE kind = 'APPROVE' GROUP BY 1, 2 HAVING count(*) > 1) t"""),
            "requests with more approvals than approvers": await conn.fetchval("""
                SELECT count(*) FROM (SELECT request_id FROM promotion_decisions
                WHERE kind = 'APPROVE' GROUP BY 1
                HAVING count(*) > (SELECT count(*) FROM users)) t"""),
            "promoted without their quorum": await conn.fetchval("""
                SELECT count(*) FROM promotion_requests r
                WHERE r.status IN ('PROMOTING', 'PROMOTED') AND r.required_approvals > (
                  SELECT count(*) FROM promotion_decisions d
                  WHERE d.request_id = r.id AND d.kind = 'APPROVE')"""),
        }
    finally:
        await conn.close()
