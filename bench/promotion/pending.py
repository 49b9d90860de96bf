"""Part 3: pendingApprovals latency with many AWAITING_APPROVAL requests, bulk-loaded
straight into Postgres with COPY (and as many closed ones as history)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from app.graphql.pagination import encode_cursor
from bench.promotion.common import (
    PENDING,
    BenchError,
    Sizes,
    World,
    heading,
    ms,
    percentile,
)
from bench.promotion.explain import SqlProbe
from tests.support.stack import Stack


@dataclass
class Catalog:
    """Ids of what set_up made, read back from the database for the bulk load."""

    apps: dict[str, int]
    workflows: dict[int, int]  # application id -> workflow id
    envs: dict[str, int]
    users: dict[str, int]
    # (application id, environment id) -> (policy id, name, approver count, version)
    pairs: dict[tuple[int, int], tuple[int, str, int, int]]
    parents: dict[tuple[int, int], int | None]  # pipeline's parent environment id

    @classmethod
    async def read(cls, db: asyncpg.Connection) -> Catalog:
        apps = {r["name"]: r["id"] for r in await db.fetch("SELECT id, name FROM applications")}
        envs = {r["name"]: r["id"] for r in await db.fetch("SELECT id, name FROM environments")}
        users = {
            r["email"].split("@")[0]: r["id"] for r in await db.fetch("SELECT id, email FROM users")
        }
        workflows = {
            r["application_id"]: r["id"]
            for r in await db.fetch("SELECT id, application_id FROM workflows")
        }
        pairs = {
            (r["application_id"], r["environment_id"]): (
                r["policy_id"],
                r["name"],
                r["approver_count"],
                r["version"],
            )
            for r in await db.fetch(
                "SELECT b.application_id, b.environment_id, b.policy_id, p.name, "
                "p.approver_count, p.version FROM policy_bindings b "
                "JOIN promotion_policies p ON p.id = b.policy_id"
            )
        }
        parents = {
            (r["application_id"], r["environment_id"]): r["parent_env"]
            for r in await db.fetch(
                "SELECT c.application_id, c.environment_id, p.environment_id AS parent_env "
                "FROM cd_pipelines c LEFT JOIN cd_pipelines p ON p.id = c.parent_id"
            )
        }
        return cls(apps, workflows, envs, users, pairs, parents)


IMAGE_COLUMNS = (
    "id",
    "application_id",
    "workflow_id",
    "image",
    "digest",
    "labels",
    "git_commits",
    "built_by_id",
    "created_at",
)
REQUEST_COLUMNS = (
    "id",
    "image_id",
    "application_id",
    "workflow_id",
    "source_type",
    "source_environment_id",
    "target_environment_id",
    "status",
    "open_key",
    "requested_by_id",
    "comment",
    "policy_id",
    "policy_name",
    "policy_version",
    "required_approvals",
    "evaluation",
    "stale_reason",
    "created_at",
    "updated_at",
    "promoted_at",
)
DECISION_COLUMNS = ("id", "request_id", "user_id", "kind", "comment", "at")
CLOSED = (("PROMOTED", 60), ("REJECTED", 15), ("STALE", 10), ("CANCELLED", 15))


@dataclass
class Rows:
    """Rows for COPY, with the ids they will have."""

    next_ids: dict[str, int]
    images: list[tuple[Any, ...]] = field(default_factory=list)
    requests: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)

    def new_id(self, table: str) -> int:
        self.next_ids[table] += 1
        return self.next_ids[table]

    def decide(
        self, request_id: int, user_id: int, kind: str, at: datetime, comment: str | None = None
    ) -> None:
        self.decisions.append(
            (
                self.new_id("promotion_decisions"),
                request_id,
                user_id,
                kind,
                comment,
                at + timedelta(minutes=10),
            )
        )


@dataclass
class BulkLoader:
    """Realistic promotion requests straight into Postgres with COPY: 20 applications,
    2-3 targets each under two policies, several requesters and builders, approvals so far;
    for every AWAITING_APPROVAL request one closed one (PROMOTED, REJECTED...) as history."""

    catalog: Catalog
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    awaiting: int = 0

    async def grow(self, db: asyncpg.Connection, awaiting: int, analyze_all: bool) -> None:
        """Add requests until `awaiting` of them await approval (and as many are closed)."""
        add = awaiting - self.awaiting
        if add <= 0:
            return
        rows = Rows(
            {
                t: await db.fetchval(f"SELECT COALESCE(MAX(id), 0) FROM {t}")
                for t in ("images", "promotion_requests", "promotion_decisions")
            }
        )
        self.generate(rows, add)
        async with db.transaction():
            await db.copy_records_to_table("images", records=rows.images, columns=IMAGE_COLUMNS)
            await db.copy_records_to_table(
                "promotion_requests", records=rows.requests, columns=REQUEST_COLUMNS
            )
            await db.copy_records_to_table(
                "promotion_decisions", records=rows.decisions, columns=DECISION_COLUMNS
            )
            for table in rows.next_ids:
                await db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
        # The steady state autovacuum keeps a live database in: statistics and visibility
        # maps of the big tables up to date (without it, counts can't use index-only scans).
        await db.execute("VACUUM ANALYZE images, promotion_requests, promotion_decisions")
        if analyze_all:
            # Autovacuum never analyzes a table of a few dozen rows (applications,
            # environments, policies): without statistics, the planner misjudges the joins.
            await db.execute("ANALYZE")
        self.awaiting = awaiting

    def generate(self, rows: Rows, add: int) -> None:
        """`add` awaiting and `add` closed requests, on images of their own."""
        c, rng = self.catalog, self.rng
        names = {i: n for n, i in c.apps.items()}
        svc = sorted(name for name in c.apps if name.startswith("svc-"))  # set_up's
        svc_ids = [c.apps[name] for name in svc]
        people = [c.users[f"dev{n}"] for n in range(5)]
        reviewer, lead, lead2 = c.users["reviewer"], c.users["lead"], c.users["lead2"]
        # The pairs the reviewer holds ARTIFACT_PROMOTER on (see set_up).
        reviewer_pairs = {(c.apps[svc[0]], c.envs["prod"]), (c.apps[svc[1]], c.envs["prod"])} | {
            pair for pair in c.pairs if pair[0] == c.apps[svc[2]]
        }
        start = datetime.now(UTC) - timedelta(days=90)
        made = {"open": 0, "closed": 0}
        while made["open"] < add or made["closed"] < add:
            # Open and closed requests interleave, as they do over months of use.
            left_open = add - made["open"]
            kind = (
                "open"
                if rng.random() * (left_open + add - made["closed"]) < left_open
                else "closed"
            )
            app_id = rng.choice(svc_ids)
            image_id = rows.new_id("images")
            at = start + timedelta(days=90 * (made["open"] + made["closed"]) / (2 * add))
            roll = rng.random()
            builder = c.users["ci-bot"] if roll < 0.8 else reviewer if roll < 0.85 else None
            tag = f"{image_id // 1000}.{image_id % 1000 // 10}.{image_id % 10}"
            app = names[app_id]
            rows.images.append(
                (
                    image_id,
                    app_id,
                    c.workflows[app_id],
                    f"registry.example.com/{app}:{tag}",
                    None,
                    json.dumps(rng.sample(["stable", "release-1.2", "canary", "hotfix"], 2)),
                    json.dumps(
                        [
                            {
                                "repo": f"https://git.example.com/{app}",
                                "branch": "main",
                                "commitHash": f"{image_id:040x}",
                                "commitMessage": "change",
                                "author": "dev@example.com",
                            }
                        ]
                    ),
                    builder,
                    at,
                )
            )
            targets = [env for (a, env) in c.pairs if a == app_id]
            for env_id in rng.sample(targets, rng.choice((1, 1, 2))):
                if made[kind] >= add:
                    break
                made[kind] += 1
                request_id = rows.new_id("promotion_requests")
                status = (
                    "AWAITING_APPROVAL"
                    if kind == "open"
                    else rng.choices([s for s, _ in CLOSED], [w for _, w in CLOSED])[0]
                )
                policy_id, policy_name, required, version = c.pairs[(app_id, env_id)]
                source_env = c.parents[(app_id, env_id)] if rng.random() < 0.3 else None
                rows.requests.append(
                    (
                        request_id,
                        image_id,
                        app_id,
                        c.workflows[app_id],
                        "ENVIRONMENT" if source_env else "CI",
                        source_env,
                        env_id,
                        status,
                        f"{image_id}:{env_id}"
                        if status in ("AWAITING_APPROVAL", "PROMOTED")
                        else None,
                        reviewer if rng.random() < 0.05 else rng.choice(people),
                        "hotfix for the incident",
                        policy_id,
                        policy_name,
                        version,
                        required,
                        json.dumps(
                            {
                                "variables": {"containerImageTag": tag},
                                "eligible": True,
                                "passCondition": None,
                                "failCondition": None,
                            }
                        ),
                        "its policy changed" if status == "STALE" else None,
                        at,
                        at,
                        at + timedelta(minutes=30) if status == "PROMOTED" else None,
                    )
                )
                second = reviewer if (app_id, env_id) in reviewer_pairs else lead2
                approvers: list[int] = []
                if status == "PROMOTED":
                    approvers = [lead, second][:required]
                elif status == "AWAITING_APPROVAL" and required > 1:
                    roll = rng.random()  # some awaiting requests have 1 of 2 approvals
                    approvers = [lead] if roll < 0.3 else [second] if roll < 0.4 else []
                for user in approvers:
                    rows.decide(request_id, user, "APPROVE", at)
                if status == "REJECTED":
                    rows.decide(request_id, lead, "REJECT", at, "not this one")


@dataclass
class Latency:
    label: str
    samples: list[float]
    total_count: int | None  # None: the case does not select totalCount
    server_cpu: float  # seconds, all samples
    postgres_cpu: float

    def line(self) -> str:
        calls = len(self.samples)
        return (
            f"{self.label:40}{'-' if self.total_count is None else f'{self.total_count:,}':>9}"
            f"{ms(percentile(self.samples, 50))}"
            f"{ms(percentile(self.samples, 95))}{ms(self.server_cpu / calls)}"
            f"{ms(self.postgres_cpu / calls)}"
        )


LATENCY_HEADER = (
    f"{'':40}{'total':>9}{'p50':>11}{'p95':>11}{'CPU: server':>14}{'Postgres':>11}  (per call)"
)


async def time_query(
    world: World, token: str, variables: dict[str, Any], samples: int, label: str
) -> Latency:
    """Sequential calls, one client: latency as one dashboard sees it."""
    api = world.api
    async with api.client() as http:
        for _ in range(3):  # warm-up: connection, the server's caches, Postgres' buffers
            data = await api(http, token, PENDING, variables)
        timings = []
        cpu = await world.meter.sample()
        for _ in range(samples):
            started = time.perf_counter()
            await api(http, token, PENDING, variables)
            timings.append(time.perf_counter() - started)
        server_cpu, _, postgres_cpu = await world.meter.since(cpu)
    page = data["pendingApprovals"]
    if len(page["edges"]) != 20:
        raise BenchError(f"{label}: expected a full page, got {len(page['edges'])} rows")
    return Latency(label, timings, page.get("totalCount"), server_cpu, postgres_cpu)


async def middle_awaiting_id(db: asyncpg.Connection) -> int:
    """The id in the middle of the awaiting requests: its cursor opens a page far from the
    first one."""
    return int(
        await db.fetchval(
            "SELECT id FROM promotion_requests WHERE status = 'AWAITING_APPROVAL' ORDER BY id "
            "OFFSET (SELECT COUNT(*) / 2 FROM promotion_requests "
            "WHERE status = 'AWAITING_APPROVAL') LIMIT 1"
        )
    )


@dataclass(frozen=True)
class Case:
    label: str
    user: str  # whose token
    mine: bool  # pendingWithMe
    later: bool  # a page from the middle, via `after`
    count: bool = True  # selects totalCount


CASES = (
    Case("approver, pendingWithMe (default)", "reviewer", True, False),
    Case("approver, pendingWithMe, later page", "reviewer", True, True),
    Case("approver, pendingWithMe, no totalCount", "reviewer", True, False, count=False),
    Case("approver, pendingWithMe: false", "reviewer", False, False),
    Case("approver, pendingWithMe: false, later", "reviewer", False, True),
    Case("super-admin, pendingWithMe: false", "admin", False, False),
)


async def pending_approvals(
    world: World, stack: Stack, sizes: Sizes, explain: bool, analyze_all: bool
) -> dict[int, list[Latency]]:
    heading("3. pendingApprovals(first: 20) latency, sequential calls of one client")
    figures: dict[int, list[Latency]] = {}
    db = await asyncpg.connect(stack.database_url)
    probe = SqlProbe(stack.database_url) if explain else None
    try:
        loader = BulkLoader(await Catalog.read(db))
        tokens = {"reviewer": world.tokens["reviewer"], "admin": world.admin}
        if probe:
            await probe.open()
        for size in sizes.pending:
            started = time.perf_counter()
            await loader.grow(db, size, analyze_all)
            rows = await db.fetchval("SELECT COUNT(*) FROM promotion_requests")
            print(
                f"\n{size:,} AWAITING_APPROVAL requests ({rows:,} requests in all) loaded "
                f"and vacuumed in {time.perf_counter() - started:.1f} s"
            )
            middle = await middle_awaiting_id(db)
            print(LATENCY_HEADER)
            figures[size] = []
            for case in CASES:
                variables: dict[str, Any] = {"mine": case.mine, "count": case.count}
                if case.later:
                    variables["after"] = encode_cursor(middle)
                latency = await time_query(
                    world, tokens[case.user], variables, sizes.samples, case.label
                )
                figures[size].append(latency)
                print(latency.line(), flush=True)
            if probe:
                await probe.report(CASES, figures[size], middle, plans=size == sizes.pending[-1])
    finally:
        await db.close()
        if probe:
            await probe.close()
    return figures
