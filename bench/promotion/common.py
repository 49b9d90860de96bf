"""What every part of the promotion benchmark shares: sizes, figures, the stack, the
GraphQL client, the CPU meter and the set-up through the API."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.support.stack import Stack, running_stack, scratch_database

PROMOTED_WITHIN_SECONDS = 60.0
POLL_SECONDS = 0.005


@dataclass(frozen=True)
class Sizes:
    clients: int  # concurrent HTTP clients for the throughput figures
    trivial_requests: int  # `{ me { id } }` calls for the baseline
    promotions: int  # images promoted then approved
    pending: tuple[int, ...]  # AWAITING_APPROVAL requests in the database, in steps
    samples: int  # timed pendingApprovals calls per figure
    auto_promotions: int  # promotions timed until PROMOTED
    applications: int = 20  # for the pendingApprovals data (at least 6: see set_up)


FULL = Sizes(
    clients=4,
    trivial_requests=2000,
    promotions=400,
    pending=(10_000, 100_000),
    samples=40,
    auto_promotions=100,
)
QUICK = Sizes(
    clients=4,
    trivial_requests=300,
    promotions=60,
    pending=(1_000, 10_000),
    samples=10,
    auto_promotions=15,
)
# One round of every part at toy sizes, in seconds: tests/bench runs it so the script
# cannot rot unnoticed. Its figures mean nothing. 1,000 pending requests still fill the
# reviewer's later page of 20.
SMOKE = Sizes(
    clients=2,
    trivial_requests=20,
    promotions=5,
    pending=(1_000,),
    samples=2,
    auto_promotions=2,
    applications=6,
)


PARTS = ("throughput", "pending", "auto")


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p50 of [1, 2, 3, 4] is 2); fine for tens of samples."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def heading(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


# --------------------------------------------------------------------------------------
# The stack: the test suite's kit (tests/support/stack.py) on a database of the bench's own
# --------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def bench_stack(keep_logs: bool) -> AsyncIterator[Stack]:
    """Database, Redis, server and worker of the bench's own; all removed on the way out.
    The worker runs with `hoist worker`'s defaults (2 pool processes, beat), as deployed."""
    workdir = Path(tempfile.mkdtemp(prefix="hoist-bench-"))
    try:
        async with scratch_database(f"hoist_bench_{os.getpid()}") as database_url:
            with running_stack(
                workdir, database_url, concurrency=2, beat=True, HOIST_LOG_LEVEL="WARNING"
            ) as stack:
                yield stack
    finally:
        if keep_logs:
            print(f"(logs kept in {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def database_name(stack: Stack) -> str:
    return stack.database_url.rsplit("/", 1)[1]


# --------------------------------------------------------------------------------------
# GraphQL over HTTP
# --------------------------------------------------------------------------------------


class Api:
    """POSTs GraphQL documents; any top-level error or payload `errors` is a BenchError."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self) -> httpx.AsyncClient:
        # One connection per client, like one dashboard tab or script.
        return httpx.AsyncClient(
            base_url=self.url, timeout=60.0, limits=httpx.Limits(max_connections=1)
        )

    async def __call__(
        self,
        http: httpx.AsyncClient,
        token: str,
        query: str,
        variables: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 200:
            raise BenchError(f"HTTP {response.status_code}: {response.text[:2000]}")
        body = response.json()
        if body.get("errors"):
            raise BenchError(f"GraphQL errors: {body['errors']}\nquery: {query.strip()[:300]}")
        data: dict[str, Any] = body["data"]
        for value in data.values():
            if isinstance(value, dict) and value.get("errors"):
                raise BenchError(f"user errors: {value['errors']}\nquery: {query.strip()[:300]}")
        return data


def proc_stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name ([] once the process is gone,
    or off Linux): [1] is the parent's pid, [2] the process group, [11]/[12] utime/stime."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone (a closed connection's backend) or not Linux
        return []
    return stat.rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    fields = proc_stat(pid)
    if not fields:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and of its live descendants: `hoist serve --workers N`
    serves from child processes (uvicorn's), and its own share is then near zero."""
    parents = {
        int(d.name): int(fields[1])
        for d in Path("/proc").iterdir()
        if d.name.isdigit() and (fields := proc_stat(d.name))
    }
    tree, grew = {pid}, True
    while grew:
        children = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(process_cpu(p) for p in tree)


Cpu = tuple[float, dict[int, float], dict[int, float]]  # server; worker's and Postgres' by pid


class CpuMeter:
    """CPU time used by `hoist serve` (with its child processes, if any), by `hoist worker`
    (its process group: Celery's pool children too) and by the Postgres backends of the
    bench's database.

    Unlike wall-clock figures it hardly moves when other work shares the machine, so it is
    the figure to compare between runs (Linux: read from /proc).
    """

    def __init__(self, server_pid: int, worker_pid: int, database_url: str) -> None:
        self.server_pid = server_pid
        self.worker_pid = worker_pid  # also its process group: started in a session of its own
        self.database_url = database_url
        self.db: asyncpg.Connection | None = None

    async def open(self) -> None:
        self.db = await asyncpg.connect(self.database_url)

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()

    def _group(self) -> dict[int, float]:
        pids = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit()]
        return {
            pid: process_cpu(pid)
            for pid in pids
            if (fields := proc_stat(pid)) and fields[2] == str(self.worker_pid)
        }

    async def sample(self) -> Cpu:
        assert self.db is not None
        pids = await self.db.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid()"
        )
        return (
            tree_cpu(self.server_pid),
            self._group(),
            {r["pid"]: process_cpu(r["pid"]) for r in pids},
        )

    async def since(self, before: Cpu) -> tuple[float, float, float]:
        """(server, worker, Postgres) CPU seconds since `before`."""
        server, worker, backends = await self.sample()

        def grown(now: dict[int, float], then: dict[int, float]) -> float:
            return sum(cpu - then.get(pid, 0.0) for pid, cpu in now.items())

        return server - before[0], grown(worker, before[1]), grown(backends, before[2])


ME = "{ me { id } }"

CREATE_APPLICATION = """
mutation($name: String!) {
  createApplication(name: $name) { application { id } errors { message } }
}"""
CREATE_ENVIRONMENT = """
mutation($name: String!, $production: Boolean) {
  createEnvironment(name: $name, production: $production) { environment { id } errors { message } }
}"""
CREATE_WORKFLOW = """
mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) { workflow { id } errors { message field } }
}"""
CREATE_USER = """
mutation($email: String!, $name: String!) {
  createUser(input: {email: $email, name: $name}) { user { id } errors { message } }
}"""
GRANT_ROLE = """
mutation($email: String!, $role: Role!, $app: String, $env: String) {
  grantRole(email: $email, role: $role, application: $app, environment: $env) {
    roleBinding { role } errors { message }
  }
}"""
CREATE_TOKEN = """
mutation($email: String!) {
  createApiToken(name: "bench", email: $email) { token errors { message } }
}"""
CREATE_POLICY = """
mutation($input: PromotionPolicyInput!) {
  createPromotionPolicy(input: $input) { policy { id } errors { message field } }
}"""
APPLY_POLICY = """
mutation($policy: String, $pairs: [AppEnvInput!]!) {
  applyPromotionPolicy(policy: $policy, applicationEnvironments: $pairs) {
    bindings { appName } errors { message field }
  }
}"""
REGISTER_IMAGE = """
mutation($input: RegisterImageInput!) {
  registerImage(input: $input) { image { id } errors { message field } }
}"""
PROMOTE = """
mutation($image: ID!, $targets: [String!]!) {
  promoteImage(imageId: $image, source: {type: CI}, targetEnvironments: $targets,
               comment: "bench hotfix") {
    results { environment outcome message request { id status } }
  }
}"""
APPROVE = """
mutation($ids: [ID!]!) {
  approvePromotionRequests(requestIds: $ids, comment: "lgtm") {
    results { requestId outcome message request { id status } }
  }
}"""
REQUEST_STATUS = """
query($id: ID!) { promotionRequest(id: $id) { status createdAt promotedAt } }
"""
# What an approver's dashboard asks for: the page, with everything a row shows.
PENDING = """
query($mine: Boolean, $after: String, $count: Boolean! = true) {
  pendingApprovals(pendingWithMe: $mine, first: 20, after: $after) {
    totalCount @include(if: $count)
    pageInfo { hasNextPage endCursor }
    edges { node {
      id status comment createdAt requiredApprovals canApprove cannotApproveReason
      image { image tag builtBy { email } }
      application { name }
      source { type environment }
      targetEnvironment { name }
      requestedBy { email }
      approvals { at user { email } }
    } }
  }
}"""


async def gather_limited(jobs: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


# --------------------------------------------------------------------------------------
# 1. Set-up through the API
# --------------------------------------------------------------------------------------

SHOP = "bench-shop"
PASS_CONDITION = 'containerImageTag.matches("^v?[0-9]+\\\\.[0-9]+\\\\.[0-9]+$")'
FAIL_CONDITION = '"wip" in imageLabels'


@dataclass
class World:
    api: Api
    http: httpx.AsyncClient
    admin: str
    meter: CpuMeter
    tokens: dict[str, str] = field(default_factory=dict)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        return await self.api(self.http, token or self.admin, query, variables)

    async def user(self, name: str, *roles: tuple[str, str, str], token: bool = True) -> None:
        email = f"{name}@example.com"
        await self(CREATE_USER, {"email": email, "name": name})
        for role, app, env in roles:
            await self(GRANT_ROLE, {"email": email, "role": role, "app": app, "env": env})
        if token:
            self.tokens[name] = (await self(CREATE_TOKEN, {"email": email}))["createApiToken"][
                "token"
            ]

    async def policy(self, name: str, pairs: list[tuple[str, str]], **fields: Any) -> None:
        await self(CREATE_POLICY, {"input": {"name": name, **fields}})
        await self(
            APPLY_POLICY,
            {"policy": name, "pairs": [{"appName": app, "envName": env} for app, env in pairs]},
        )

    async def images(self, app: str, count: int, prefix: str, clients: int) -> list[str]:
        async def register(i: int) -> str:
            data = await self(
                REGISTER_IMAGE,
                {
                    "input": {
                        "application": app,
                        "workflow": "main",
                        "image": f"registry.example.com/{app}:{prefix}.{i // 1000}.{i % 1000}",
                        "labels": ["stable"],
                        "builtBy": "builder@example.com",
                        "gitCommits": [
                            {
                                "repo": f"https://git.example.com/{app}",
                                "branch": "main",
                                "commitHash": f"{i:040x}",
                                "commitMessage": f"fix {i}",
                            }
                        ],
                    }
                },
            )
            return str(data["registerImage"]["image"]["id"])

        return await gather_limited([functools.partial(register, i) for i in range(count)], clients)


async def set_up(world: World, applications: int) -> None:
    """The catalog, people and policies every part uses, made the way an admin would;
    `applications` svc-NN applications for the pendingApprovals data."""
    svc = svc_names(applications)
    for env in ("dev", "qa", "staging", "prod"):
        await world(CREATE_ENVIRONMENT, {"name": env, "production": env == "prod"})
    for app in (SHOP, *svc):
        await world(CREATE_APPLICATION, {"name": app})
    await world(
        CREATE_WORKFLOW,
        {
            "input": {
                "application": SHOP,
                "name": "main",
                "ciPipeline": f"{SHOP}-ci",
                "cdPipelines": [
                    {"environment": "dev", "trigger": "AUTOMATIC"},
                    {"environment": "staging", "parentEnvironment": "dev", "preStage": True},
                    {"environment": "prod", "parentEnvironment": "staging"},
                ],
            }
        },
    )
    for n, app in enumerate(svc):
        chain = ["dev", "qa", "staging", "prod"] if n % 2 else ["dev", "staging", "prod"]
        await world(
            CREATE_WORKFLOW,
            {
                "input": {
                    "application": app,
                    "name": "main",
                    "ciPipeline": f"{app}-ci",
                    "cdPipelines": [
                        {"environment": env, **({"parentEnvironment": chain[i - 1]} if i else {})}
                        for i, env in enumerate(chain)
                    ],
                }
            },
        )
    await world.user("builder", ("BUILD_DEPLOY", SHOP, "*"), token=False)
    await world.user("promoter", ("BUILD_DEPLOY", SHOP, "*"))
    await world.user("approver", ("ARTIFACT_PROMOTER", SHOP, "prod"))
    # The approver whose pendingApprovals are timed: the role on some pairs, a view of others.
    await world.user(
        "reviewer",
        ("ARTIFACT_PROMOTER", svc[0], "prod"),
        ("ARTIFACT_PROMOTER", svc[1], "prod"),
        ("ARTIFACT_PROMOTER", svc[2], "*"),
        ("VIEWER", svc[3], "*"),
        ("VIEWER", svc[4], "*"),
        ("BUILD_DEPLOY", svc[5], "*"),
    )
    await world.user("lead", ("ARTIFACT_PROMOTER", "*", "*"), token=False)
    await world.user("lead2", ("ARTIFACT_PROMOTER", "*", "*"), token=False)
    for n in range(5):
        await world.user(f"dev{n}", ("BUILD_DEPLOY", "*", "*"), token=False)
    await world.user("ci-bot", ("BUILD_DEPLOY", "*", "*"), token=False)
    await world.policy(
        "approval-lane",
        [(SHOP, "prod")],
        approverCount=1,
        passCondition=PASS_CONDITION,
        failCondition=FAIL_CONDITION,
    )
    await world.policy(
        "auto-lane",
        [(SHOP, "staging")],
        approverCount=0,
        passCondition=PASS_CONDITION,
        failCondition=FAIL_CONDITION,
    )
    svc_pairs = [
        (app, env)
        for n, app in enumerate(svc)
        for env in (("qa", "staging", "prod") if n % 2 else ("staging", "prod"))
    ]
    await world.policy("gate-one", [p for p in svc_pairs if p[1] != "prod"], approverCount=1)
    await world.policy(
        "gate-prod",
        [p for p in svc_pairs if p[1] == "prod"],
        approverCount=2,
        allowRequestFromApprove=True,
        passCondition=PASS_CONDITION,
    )


def svc_names(count: int) -> list[str]:
    return [f"svc-{n:02d}" for n in range(count)]
