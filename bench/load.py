"""Load: many concurrent clients mixing promote, approve, pendingApprovals and deploy.

Run by hand: ``.venv/bin/python bench/load.py [--clients 200] [--seconds 30] [--smoke]``.
It starts its own Postgres database, Redis, ``hoist serve`` and ``hoist worker`` (the test
suite's kit, tests/support/stack.py, as bench/promotion does), drives the mix, then
prints throughput, latency percentiles per operation, server errors, and the invariants
checked straight in the database. The test suite runs a short version
(tests/e2e/test_load.py) through ``drive`` and ``invariants``.
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
  edges { node { image { id } deployable } } } }"""
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
        out = [
            f"{self.requests} requests in {self.seconds:.1f} s: "
            f"{self.requests / self.seconds:.0f} req/s; HTTP {dict(self.statuses)}; "
            f"server errors: {len(self.server_errors)}"
        ]
        for op, values in sorted(self.latencies.items()):
            q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
            out.append(
                f"  {op:8} n={len(values):6}  p50={q[49] * 1000:7.1f} ms  "
                f"p95={q[94] * 1000:7.1f} ms  p99={q[98] * 1000:7.1f} ms"
            )
        return out


@dataclass
class Actors:
    """Tokens of the people the load acts as, and the images it promotes."""

    builders: list[str]
    approvers: list[str]
    images: list[str]


async def _call(
    http: httpx.AsyncClient,
    report: Report,
    op: str,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    started = time.perf_counter()
    try:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
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


async def _client(
    http: httpx.AsyncClient, actors: Actors, report: Report, deadline: float, rng: random.Random
) -> None:
    ops, weights = zip(*MIX.items(), strict=True)
    while time.monotonic() < deadline:
        op = rng.choices(ops, weights)[0]
        if op == "promote":
            await _call(
                http,
                report,
                op,
                rng.choice(actors.builders),
                PROMOTE,
                {"i": rng.choice(actors.images)},
            )
        elif op == "pending":
            await _call(http, report, op, rng.choice(actors.approvers), PENDING)
        elif op == "approve":
            approver = rng.choice(actors.approvers)
            data = await _call(http, report, "pending", approver, PENDING)
            ids = [
                e["node"]["id"] for e in (data or {}).get("pendingApprovals", {}).get("edges", [])
            ]
            if ids:
                await _call(http, report, op, approver, APPROVE, {"ids": [rng.choice(ids)]})
        else:
            builder = rng.choice(actors.builders)
            data = await _call(http, report, "deployable", builder, DEPLOYABLE)
            ready = [
                d["node"]["image"]["id"]
                for d in ((data or {}).get("deployableImages") or {}).get("edges", [])
                if d["node"]["deployable"]
            ]
            if ready:
                await _call(http, report, op, builder, DEPLOY, {"i": rng.choice(ready)})


async def drive(url: str, actors: Actors, clients: int, seconds: float, seed: int = 1) -> Report:
    """Run `clients` concurrent clients for `seconds` against the server at `url`."""
    report = Report()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client(http, actors, report, deadline, random.Random(seed + i))
                for i in range(clients)
            )
        )
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


SETUP = """mutation {
  createApplication(name: "shop") { errors { message } }
  dev: createEnvironment(name: "dev") { errors { message } }
  staging: createEnvironment(name: "staging") { errors { message } }
  prod: createEnvironment(name: "prod", production: true) { errors { message } }
}"""
WORKFLOW = """mutation { createWorkflow(input: {application: "shop", name: "main",
  ciPipeline: "ci", cdPipelines: [{environment: "dev"}, {environment: "staging",
  parentEnvironment: "dev"}, {environment: "prod", parentEnvironment: "staging"}]}) {
  errors { message } } }"""
POLICY = """mutation { createPromotionPolicy(input: {name: "lane", approverCount: 2}) {
  errors { message } }
  applyPromotionPolicy(policy: "lane", applicationEnvironments: [{appName: "shop",
  envName: "prod"}]) { errors { message } } }"""


async def set_up(url: str, admin: str, images: int) -> Actors:
    """The catalog, 3 builders, 4 approvers and `images` images, through GraphQL."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def call(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {admin}"},
            )
            body = response.json()
            assert not body.get("errors"), body
            return body["data"]

        for query in (SETUP, WORKFLOW, POLICY):
            await call(query)

        async def user(email: str, role: str, env: str) -> str:
            await call(
                """mutation($e: String!) { createUser(input: {email: $e, name: $e}) {
                errors { message } } }""",
                {"e": email},
            )
            await call(
                """mutation($e: String!, $r: Role!, $n: String) { grantRole(email: $e,
                role: $r, application: "shop", environment: $n) { errors { message } } }""",
                {"e": email, "r": role, "n": env},
            )
            data = await call(
                """mutation($e: String!) { createApiToken(name: "load",
                email: $e) { token } }""",
                {"e": email},
            )
            return str(data["createApiToken"]["token"])

        builders = [await user(f"dev{i}@example.com", "BUILD_DEPLOY", "*") for i in range(3)]
        approvers = [
            await user(f"ap{i}@example.com", "ARTIFACT_PROMOTER", "prod") for i in range(4)
        ]
        ids = []
        for i in range(images):
            data = await call(
                """mutation($i: String!) { registerImage(input: {
                application: "shop", workflow: "main", image: $i}) { image { id } } }""",
                {"i": f"registry.example.com/shop:1.{i}"},
            )
            ids.append(str(data["registerImage"]["image"]["id"]))
    return Actors(builders, approvers, ids)


async def main(clients: int, seconds: float, images: int) -> int:
    from bench.promotion.common import bench_stack

    async with bench_stack(keep_logs=False) as stack:
        server = stack.server
        actors = await set_up(server.url, server.token, images)
        print(
            f"{clients} clients for {seconds:.0f} s against {server.url} "
            f"(Postgres + Redis worker), {images} images"
        )
        report = await drive(server.url, actors, clients, seconds)
        for line in report.lines():
            print(line)
        violations = await invariants(stack.database_url)
        for name, count in violations.items():
            print(f"  invariant {name}: {count} violation(s)")
        for message in report.server_errors[:10]:
            print(f"  server error: {message}")
    # A smoke run must fail loudly when the mix breaks something (figures are not checked).
    return 1 if report.server_errors or any(violations.values()) else 0


if __name__ == "__main__":
    import argparse
    import sys
    from pathlib import Path

    # Run as a script: make `bench.` and `tests.support` importable from the project root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="5 clients for 2 s on 10 images: checks that the script runs",
    )
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.seconds, args.images = 5, 2.0, 10
    sys.exit(asyncio.run(main(args.clients, args.seconds, args.images)))
