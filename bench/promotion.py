"""Benchmark: promotions end to end, over HTTP, against a real server, Postgres and Redis.

Run from the project root: ``.venv/bin/python bench/promotion.py [--quick] [--explain]``.

It starts everything it measures and removes it all at the end, even on error or Ctrl-C:
a Postgres database of its own (``hoist_bench_<pid>`` on 127.0.0.1:5432), a private
``redis-server`` on a free port, ``hoist serve`` (with ``HOIST_BROKER_URL``, so jobs go to
Celery) and ``hoist worker``. Then:

1. set-up through GraphQL: an admin from ``hoist admin bootstrap``, users with tokens,
   applications, environments, workflows, policies;
2. throughput of promoteImage and approvePromotionRequests with a few concurrent clients,
   against the trivial query ``{ me { id } }`` on the same server;
3. pendingApprovals latency with 10,000 and 100,000 AWAITING_APPROVAL requests bulk-loaded
   straight into Postgres (with as many closed ones as history);
4. auto-promotion latency: promoteImage answered -> the worker made the request PROMOTED.

It prints figures and asserts nothing about time. ``--quick`` shrinks every size so the
whole run takes about a minute (a smoke check). ``--explain`` also prints EXPLAIN ANALYZE
of the SQL behind pendingApprovals, rebuilt with the app's own query code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis

from app.graphql.pagination import encode_cursor

HOIST = Path(sys.executable).with_name("hoist")  # the venv's console script
PG_HOST = "postgres@127.0.0.1:5432"
PG_ADMIN_DSN = f"postgres://{PG_HOST}/postgres"
READY_WITHIN_SECONDS = 60.0
STOP_WITHIN_SECONDS = 15.0
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


FULL = Sizes(clients=4, trivial_requests=2000, promotions=400, pending=(10_000, 100_000),
             samples=40, auto_promotions=100)
QUICK = Sizes(clients=4, trivial_requests=300, promotions=60, pending=(1_000, 10_000),
              samples=10, auto_promotions=15)


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
# Processes and the database of the bench's own
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hoist_env(workdir: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without its HOIST_ settings (a developer's database or broker
    must not leak in), plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    env.update({"HOIST_DATA_DIR": str(workdir), "HOIST_LOG_LEVEL": "WARNING", **settings})
    return env


def start_process(argv: list[str], env: dict[str, str] | None, cwd: Path,
                  log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # A session of its own: Ctrl-C reaches only the bench, which stops children in order.
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL to the process group this bench started."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_WITHIN_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its group: Celery's pool children too
        process.wait()


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("redis-server is not installed")
    port = free_port()
    process = start_process(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(workdir)], None, workdir, workdir / "redis.log")
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            if client.ping():
                client.close()
                return process, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process(process)
                raise BenchError(
                    f"redis-server did not start:\n{tail(workdir / 'redis.log')}") from None
        time.sleep(0.02)


def start_server(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`hoist serve` on a free port (tried again if the port was taken meanwhile)."""
    log = workdir / "server.log"
    for attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_process([str(HOIST), "serve", "--port", str(port)], env, workdir, log)
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        stop_process(process)
        if attempt == 2 or "address already in use" not in tail(log):
            break
    raise BenchError(f"hoist serve did not start:\n{tail(log)}")


def bootstrap_admin(workdir: Path, env: dict[str, str], email: str) -> str:
    """`hoist admin bootstrap`; the token is the last line it prints."""
    result = subprocess.run([str(HOIST), "admin", "bootstrap", "--email", email], env=env,
                            cwd=workdir, capture_output=True, text=True, timeout=120,
                            check=False)
    if result.returncode != 0:
        raise BenchError(f"hoist admin bootstrap failed:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


@dataclass
class Stack:
    workdir: Path
    database: str
    database_url: str
    url: str
    admin_token: str
    server: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]

    def check_alive(self) -> None:
        for name, process in (("hoist serve", self.server), ("hoist worker", self.worker)):
            if process.poll() is not None:
                log = self.workdir / ("server.log" if process is self.server else "worker.log")
                raise BenchError(f"{name} exited with {process.returncode}:\n{tail(log)}")


@contextlib.asynccontextmanager
async def running_stack(keep_logs: bool) -> AsyncIterator[Stack]:
    """Database, Redis, server and worker of the bench's own; all removed on the way out."""
    async with contextlib.AsyncExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="hoist-bench-"))
        if keep_logs:
            stack.callback(print, f"(logs kept in {workdir})")
        else:
            stack.callback(shutil.rmtree, workdir, True)
        database = f"hoist_bench_{os.getpid()}"
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        stack.push_async_callback(drop_database, database)
        redis_process, broker_url = start_redis(workdir)
        stack.callback(stop_process, redis_process)
        database_url = f"postgres://{PG_HOST}/{database}"
        env = hoist_env(workdir, HOIST_DATABASE_URL=database_url, HOIST_BROKER_URL=broker_url)
        server, url = start_server(workdir, env)
        stack.callback(stop_process, server)
        # Stopped first (callbacks run last-in first-out): it must not outlive its broker.
        worker = start_process([str(HOIST), "worker"], env, workdir, workdir / "worker.log")
        stack.callback(stop_process, worker)
        token = bootstrap_admin(workdir, env, "bench-admin@example.com")
        yield Stack(workdir, database, database_url, url, token, server, worker)


async def drop_database(database: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


# --------------------------------------------------------------------------------------
# GraphQL over HTTP
# --------------------------------------------------------------------------------------


class Api:
    """POSTs GraphQL documents; any top-level error or payload `errors` is a BenchError."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self) -> httpx.AsyncClient:
        # One connection per client, like one dashboard tab or script.
        return httpx.AsyncClient(base_url=self.url, timeout=60.0,
                                 limits=httpx.Limits(max_connections=1))

    async def __call__(self, http: httpx.AsyncClient, token: str, query: str,
                       variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await http.post("/graphql", json={"query": query,
                                                     "variables": variables or {}},
                                   headers={"Authorization": f"Bearer {token}"})
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


Cpu = tuple[float, dict[int, float], dict[int, float]]  # server; worker's and Postgres' by pid


class CpuMeter:
    """CPU time used by `hoist serve`, by `hoist worker` (its process group: Celery's pool
    children too) and by the Postgres backends of the bench's database.

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

    @staticmethod
    def _stat(pid: int | str) -> list[str]:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # gone (a closed connection's backend) or not Linux
            return []
        return stat.rsplit(")", 1)[1].split()  # fields after the command name

    @classmethod
    def _cpu(cls, pid: int) -> float:
        fields = cls._stat(pid)
        if not fields:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def _group(self) -> dict[int, float]:
        pids = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit()]
        return {pid: self._cpu(pid) for pid in pids
                if (fields := self._stat(pid)) and fields[2] == str(self.worker_pid)}

    async def sample(self) -> Cpu:
        assert self.db is not None
        pids = await self.db.fetch("SELECT pid FROM pg_stat_activity WHERE datname = "
                                   "current_database() AND pid <> pg_backend_pid()")
        return (self._cpu(self.server_pid), self._group(),
                {r["pid"]: self._cpu(r["pid"]) for r in pids})

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
query($mine: Boolean, $after: String) {
  pendingApprovals(pendingWithMe: $mine, first: 20, after: $after) {
    totalCount
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
SVC_COUNT = 20  # applications for the pendingApprovals data
PASS_CONDITION = 'containerImageTag.matches("^v?[0-9]+\\\\.[0-9]+\\\\.[0-9]+$")'
FAIL_CONDITION = '"wip" in imageLabels'


@dataclass
class World:
    api: Api
    http: httpx.AsyncClient
    admin: str
    meter: CpuMeter
    tokens: dict[str, str] = field(default_factory=dict)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None,
                       token: str | None = None) -> dict[str, Any]:
        return await self.api(self.http, token or self.admin, query, variables)

    async def user(self, name: str, *roles: tuple[str, str, str], token: bool = True) -> None:
        email = f"{name}@example.com"
        await self(CREATE_USER, {"email": email, "name": name})
        for role, app, env in roles:
            await self(GRANT_ROLE, {"email": email, "role": role, "app": app, "env": env})
        if token:
            self.tokens[name] = (await self(CREATE_TOKEN, {"email": email})
                                 )["createApiToken"]["token"]

    async def policy(self, name: str, pairs: list[tuple[str, str]], **fields: Any) -> None:
        await self(CREATE_POLICY, {"input": {"name": name, **fields}})
        await self(APPLY_POLICY, {"policy": name, "pairs": [
            {"appName": app, "envName": env} for app, env in pairs]})

    async def images(self, app: str, count: int, prefix: str, clients: int) -> list[str]:
        async def register(i: int) -> str:
            data = await self(REGISTER_IMAGE, {"input": {
                "application": app, "workflow": "main",
                "image": f"registry.example.com/{app}:{prefix}.{i // 1000}.{i % 1000}",
                "labels": ["stable"], "builtBy": "builder@example.com",
                "gitCommits": [{"repo": f"https://git.example.com/{app}", "branch": "main",
                                "commitHash": f"{i:040x}", "commitMessage": f"fix {i}"}],
            }})
            return str(data["registerImage"]["image"]["id"])

        return await gather_limited([lambda i=i: register(i) for i in range(count)], clients)


async def set_up(world: World) -> None:
    """The catalog, people and policies every part uses, made the way an admin would."""
    for env in ("dev", "qa", "staging", "prod"):
        await world(CREATE_ENVIRONMENT, {"name": env, "production": env == "prod"})
    for app in (SHOP, *svc_names()):
        await world(CREATE_APPLICATION, {"name": app})
    await world(CREATE_WORKFLOW, {"input": {
        "application": SHOP, "name": "main", "ciPipeline": f"{SHOP}-ci", "cdPipelines": [
            {"environment": "dev", "trigger": "AUTOMATIC"},
            {"environment": "staging", "parentEnvironment": "dev", "preStage": True},
            {"environment": "prod", "parentEnvironment": "staging"},
        ]}})
    for n, app in enumerate(svc_names()):
        chain = ["dev", "qa", "staging", "prod"] if n % 2 else ["dev", "staging", "prod"]
        await world(CREATE_WORKFLOW, {"input": {
            "application": app, "name": "main", "ciPipeline": f"{app}-ci", "cdPipelines": [
                {"environment": env, **({"parentEnvironment": chain[i - 1]} if i else {})}
                for i, env in enumerate(chain)
            ]}})
    await world.user("builder", ("BUILD_DEPLOY", SHOP, "*"), token=False)
    await world.user("promoter", ("BUILD_DEPLOY", SHOP, "*"))
    await world.user("approver", ("ARTIFACT_PROMOTER", SHOP, "prod"))
    # The approver whose pendingApprovals are timed: the role on some pairs, a view of others.
    await world.user("reviewer", ("ARTIFACT_PROMOTER", svc_names()[0], "prod"),
                     ("ARTIFACT_PROMOTER", svc_names()[1], "prod"),
                     ("ARTIFACT_PROMOTER", svc_names()[2], "*"),
                     ("VIEWER", svc_names()[3], "*"), ("VIEWER", svc_names()[4], "*"),
                     ("BUILD_DEPLOY", svc_names()[5], "*"))
    await world.user("lead", ("ARTIFACT_PROMOTER", "*", "*"), token=False)
    await world.user("lead2", ("ARTIFACT_PROMOTER", "*", "*"), token=False)
    for n in range(5):
        await world.user(f"dev{n}", ("BUILD_DEPLOY", "*", "*"), token=False)
    await world.user("ci-bot", ("BUILD_DEPLOY", "*", "*"), token=False)
    await world.policy("approval-lane", [(SHOP, "prod")], approverCount=1,
                       passCondition=PASS_CONDITION, failCondition=FAIL_CONDITION)
    await world.policy("auto-lane", [(SHOP, "staging")], approverCount=0,
                       passCondition=PASS_CONDITION, failCondition=FAIL_CONDITION)
    svc_pairs = [(app, env) for n, app in enumerate(svc_names())
                 for env in (("qa", "staging", "prod") if n % 2 else ("staging", "prod"))]
    await world.policy("gate-one", [p for p in svc_pairs if p[1] != "prod"], approverCount=1)
    await world.policy("gate-prod", [p for p in svc_pairs if p[1] == "prod"], approverCount=2,
                       allowRequestFromApprove=True, passCondition=PASS_CONDITION)


def svc_names() -> list[str]:
    return [f"svc-{n:02d}" for n in range(SVC_COUNT)]


# --------------------------------------------------------------------------------------
# 2. promoteImage / approvePromotionRequests throughput
# --------------------------------------------------------------------------------------


@dataclass
class Rate:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    server_cpu: float  # seconds, all calls
    worker_cpu: float
    postgres_cpu: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def line(self, baseline: Rate | None = None) -> str:
        ratio = f"{self.per_second / baseline.per_second:9.2f}x" if baseline else f"{'':10}"
        return (f"{self.name:28}{self.count:>7,}{self.per_second:>10.1f}/s{ratio}"
                f"{ms(percentile(self.latencies, 50))}{ms(percentile(self.latencies, 95))}"
                f"{ms(self.server_cpu / self.count)}{ms(self.worker_cpu / self.count)}"
                f"{ms(self.postgres_cpu / self.count)}")


RATE_HEADER = (f"{'':28}{'calls':>7}{'rate':>12}{'vs me':>10}{'p50':>11}{'p95':>11}"
               f"{'CPU: server':>14}{'worker':>11}{'Postgres':>11}  (per call)")


async def rate(api: Api, meter: CpuMeter, token: str, name: str, clients: int,
               calls: Sequence[Callable[[httpx.AsyncClient], Awaitable[Any]]]) -> Rate:
    """Run `calls` with `clients` concurrent clients; wall-clock rate and per-call latency."""
    queue: asyncio.Queue[Callable[[httpx.AsyncClient], Awaitable[Any]]] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    latencies: list[float] = []

    async def client() -> None:
        async with api.client() as http:
            await api(http, token, ME)  # connect outside the timing
            await ready.wait()
            while not queue.empty():
                call = queue.get_nowait()
                started = time.perf_counter()
                await call(http)
                latencies.append(time.perf_counter() - started)

    ready = asyncio.Event()
    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(0.2)
    cpu = await meter.sample()
    started = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    return Rate(name, len(calls), seconds, latencies, *await meter.since(cpu))


THROUGHPUT_PENDING = """{ pendingApprovals(first: 20) { totalCount edges { node { id
  image { tag } targetEnvironment { name } requestedBy { email } canApprove } } } }"""


async def throughput(world: World, sizes: Sizes) -> list[Rate]:
    heading(f"2. promote + approve throughput over HTTP ({sizes.clients} concurrent clients)")
    api = world.api
    images = await world.images(SHOP, sizes.promotions, "2", sizes.clients)
    promoter, approver = world.tokens["promoter"], world.tokens["approver"]
    # Warm-up: the server's first calls of each kind pay for imports and caches.
    for _ in range(20):
        await world(ME, token=promoter)

    async def me(http: httpx.AsyncClient) -> None:
        await api(http, promoter, ME)

    baseline = await rate(api, world.meter, promoter, "{ me { id } }", sizes.clients,
                          [me] * sizes.trivial_requests)

    request_ids: list[str] = []
    outcomes: dict[str, int] = {}

    def promote(image: str) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        async def call(http: httpx.AsyncClient) -> None:
            data = await api(http, promoter, PROMOTE, {"image": image, "targets": ["prod"]})
            result = data["promoteImage"]["results"][0]
            outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
            if result["request"]:
                request_ids.append(result["request"]["id"])
        return call

    promoted = await rate(api, world.meter, promoter, "promoteImage (1 target)", sizes.clients,
                          [promote(i) for i in images])

    def approve(request_id: str) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        async def call(http: httpx.AsyncClient) -> None:
            data = await api(http, approver, APPROVE, {"ids": [request_id]})
            outcome = data["approvePromotionRequests"]["results"][0]["outcome"]
            outcomes[f"approve:{outcome}"] = outcomes.get(f"approve:{outcome}", 0) + 1
        return call

    # Read while the requests await approval: the approver's default view, a page of 20.
    async def pending(http: httpx.AsyncClient) -> None:
        await api(http, approver, THROUGHPUT_PENDING)

    listed = await rate(api, world.meter, approver, "pendingApprovals (first 20)",
                        sizes.clients, [pending] * sizes.trivial_requests)
    approved = await rate(api, world.meter, approver, "approvePromotionRequests (1)",
                          sizes.clients, [approve(i) for i in request_ids])
    print(RATE_HEADER)
    print(baseline.line())
    print(promoted.line(baseline))
    print(listed.line(baseline))
    print(approved.line(baseline))
    print("outcomes:", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    if outcomes.get("AWAITING_APPROVAL") != len(images) or \
            outcomes.get("approve:PROMOTING") != len(images):
        raise BenchError(f"unexpected outcomes: {outcomes}")
    return [baseline, promoted, listed, approved]


# --------------------------------------------------------------------------------------
# 3. pendingApprovals with many requests, bulk-loaded
# --------------------------------------------------------------------------------------


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
        users = {r["email"].split("@")[0]: r["id"]
                 for r in await db.fetch("SELECT id, email FROM users")}
        workflows = {r["application_id"]: r["id"]
                     for r in await db.fetch("SELECT id, application_id FROM workflows")}
        pairs = {(r["application_id"], r["environment_id"]):
                 (r["policy_id"], r["name"], r["approver_count"], r["version"])
                 for r in await db.fetch(
                     "SELECT b.application_id, b.environment_id, b.policy_id, p.name, "
                     "p.approver_count, p.version FROM policy_bindings b "
                     "JOIN promotion_policies p ON p.id = b.policy_id")}
        parents = {(r["application_id"], r["environment_id"]): r["parent_env"]
                   for r in await db.fetch(
                       "SELECT c.application_id, c.environment_id, p.environment_id AS parent_env "
                       "FROM cd_pipelines c LEFT JOIN cd_pipelines p ON p.id = c.parent_id")}
        return cls(apps, workflows, envs, users, pairs, parents)


IMAGE_COLUMNS = ("id", "application_id", "workflow_id", "image", "digest", "labels",
                 "git_commits", "built_by_id", "created_at")
REQUEST_COLUMNS = ("id", "image_id", "application_id", "workflow_id", "source_type",
                   "source_environment_id", "target_environment_id", "status", "open_key",
                   "requested_by_id", "comment", "policy_id", "policy_name", "policy_version",
                   "required_approvals", "evaluation", "stale_reason", "created_at",
                   "updated_at", "promoted_at")
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

    def decide(self, request_id: int, user_id: int, kind: str, at: datetime,
               comment: str | None = None) -> None:
        self.decisions.append((self.new_id("promotion_decisions"), request_id, user_id, kind,
                               comment, at + timedelta(minutes=10)))


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
        rows = Rows({t: await db.fetchval(f"SELECT COALESCE(MAX(id), 0) FROM {t}")
                     for t in ("images", "promotion_requests", "promotion_decisions")})
        self.generate(rows, add)
        async with db.transaction():
            await db.copy_records_to_table("images", records=rows.images,
                                           columns=IMAGE_COLUMNS)
            await db.copy_records_to_table("promotion_requests", records=rows.requests,
                                           columns=REQUEST_COLUMNS)
            await db.copy_records_to_table("promotion_decisions", records=rows.decisions,
                                           columns=DECISION_COLUMNS)
            for table in rows.next_ids:
                await db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT MAX(id) FROM {table}))")
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
        svc_ids = [c.apps[name] for name in svc_names()]
        people = [c.users[f"dev{n}"] for n in range(5)]
        reviewer, lead, lead2 = c.users["reviewer"], c.users["lead"], c.users["lead2"]
        # The pairs the reviewer holds ARTIFACT_PROMOTER on (see set_up).
        reviewer_pairs = {(c.apps[svc_names()[0]], c.envs["prod"]),
                          (c.apps[svc_names()[1]], c.envs["prod"])} | {
            pair for pair in c.pairs if pair[0] == c.apps[svc_names()[2]]}
        start = datetime.now(UTC) - timedelta(days=90)
        made = {"open": 0, "closed": 0}
        while made["open"] < add or made["closed"] < add:
            # Open and closed requests interleave, as they do over months of use.
            left_open = add - made["open"]
            kind = "open" if rng.random() * (left_open + add - made["closed"]) < left_open \
                else "closed"
            app_id = rng.choice(svc_ids)
            image_id = rows.new_id("images")
            at = start + timedelta(days=90 * (made["open"] + made["closed"]) / (2 * add))
            roll = rng.random()
            builder = c.users["ci-bot"] if roll < 0.8 else reviewer if roll < 0.85 else None
            tag = f"{image_id // 1000}.{image_id % 1000 // 10}.{image_id % 10}"
            app = names[app_id]
            rows.images.append((
                image_id, app_id, c.workflows[app_id], f"registry.example.com/{app}:{tag}", None,
                json.dumps(rng.sample(["stable", "release-1.2", "canary", "hotfix"], 2)),
                json.dumps([{"repo": f"https://git.example.com/{app}", "branch": "main",
                             "commitHash": f"{image_id:040x}", "commitMessage": "change",
                             "author": "dev@example.com"}]),
                builder, at))
            targets = [env for (a, env) in c.pairs if a == app_id]
            for env_id in rng.sample(targets, rng.choice((1, 1, 2))):
                if made[kind] >= add:
                    break
                made[kind] += 1
                request_id = rows.new_id("promotion_requests")
                status = "AWAITING_APPROVAL" if kind == "open" else rng.choices(
                    [s for s, _ in CLOSED], [w for _, w in CLOSED])[0]
                policy_id, policy_name, required, version = c.pairs[(app_id, env_id)]
                source_env = c.parents[(app_id, env_id)] if rng.random() < 0.3 else None
                rows.requests.append((
                    request_id, image_id, app_id, c.workflows[app_id],
                    "ENVIRONMENT" if source_env else "CI", source_env, env_id, status,
                    f"{image_id}:{env_id}" if status in ("AWAITING_APPROVAL", "PROMOTED")
                    else None,
                    reviewer if rng.random() < 0.05 else rng.choice(people),
                    "hotfix for the incident", policy_id, policy_name, version, required,
                    json.dumps({"variables": {"containerImageTag": tag}, "eligible": True,
                                "passCondition": None, "failCondition": None}),
                    "its policy changed" if status == "STALE" else None, at, at,
                    at + timedelta(minutes=30) if status == "PROMOTED" else None))
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
    total_count: int
    server_cpu: float  # seconds, all samples
    postgres_cpu: float

    def line(self) -> str:
        calls = len(self.samples)
        return (f"{self.label:40}{self.total_count:>9,}{ms(percentile(self.samples, 50))}"
                f"{ms(percentile(self.samples, 95))}{ms(self.server_cpu / calls)}"
                f"{ms(self.postgres_cpu / calls)}")


LATENCY_HEADER = (f"{'':40}{'total':>9}{'p50':>11}{'p95':>11}{'CPU: server':>14}"
                  f"{'Postgres':>11}  (per call)")


async def time_query(world: World, token: str, variables: dict[str, Any], samples: int,
                     label: str) -> Latency:
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
    return Latency(label, timings, page["totalCount"], server_cpu, postgres_cpu)


async def middle_awaiting_id(db: asyncpg.Connection) -> int:
    """The id in the middle of the awaiting requests: its cursor opens a page far from the
    first one."""
    return int(await db.fetchval(
        "SELECT id FROM promotion_requests WHERE status = 'AWAITING_APPROVAL' ORDER BY id "
        "OFFSET (SELECT COUNT(*) / 2 FROM promotion_requests "
        "WHERE status = 'AWAITING_APPROVAL') LIMIT 1"))


@dataclass(frozen=True)
class Case:
    label: str
    user: str  # whose token
    mine: bool  # pendingWithMe
    later: bool  # a page from the middle, via `after`


CASES = (
    Case("approver, pendingWithMe (default)", "reviewer", True, False),
    Case("approver, pendingWithMe, later page", "reviewer", True, True),
    Case("approver, pendingWithMe: false", "reviewer", False, False),
    Case("approver, pendingWithMe: false, later", "reviewer", False, True),
    Case("super-admin, pendingWithMe: false", "bench-admin", False, False),
)


async def pending_approvals(world: World, stack: Stack, sizes: Sizes, explain: bool,
                            analyze_all: bool) -> dict[int, list[Latency]]:
    heading("3. pendingApprovals(first: 20) latency, sequential calls of one client")
    figures: dict[int, list[Latency]] = {}
    db = await asyncpg.connect(stack.database_url)
    probe = SqlProbe(stack.database_url) if explain else None
    try:
        loader = BulkLoader(await Catalog.read(db))
        tokens = {"reviewer": world.tokens["reviewer"], "bench-admin": world.admin}
        if probe:
            await probe.open()
        for size in sizes.pending:
            started = time.perf_counter()
            await loader.grow(db, size, analyze_all)
            rows = await db.fetchval("SELECT COUNT(*) FROM promotion_requests")
            print(f"\n{size:,} AWAITING_APPROVAL requests ({rows:,} requests in all) loaded "
                  f"and vacuumed in {time.perf_counter() - started:.1f} s")
            middle = await middle_awaiting_id(db)
            print(LATENCY_HEADER)
            figures[size] = []
            for case in CASES:
                variables: dict[str, Any] = {"mine": case.mine}
                if case.later:
                    variables["after"] = encode_cursor(middle)
                latency = await time_query(world, tokens[case.user], variables, sizes.samples,
                                           case.label)
                figures[size].append(latency)
                print(latency.line(), flush=True)
            if probe:
                await probe.report(figures[size], middle, plans=size == sizes.pending[-1])
    finally:
        await db.close()
        if probe:
            await probe.close()
    return figures


class SqlProbe:
    """EXPLAIN ANALYZE of the SQL pendingApprovals sends, rebuilt with the app's own query
    code: the calls app.promotions.schema.Query.pending_approvals and
    app.graphql.pagination.paginate make (a count, then a page of first + 1 rows)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def open(self) -> None:
        from tortoise import Tortoise

        from app.db import tortoise_config

        await Tortoise.init(config=tortoise_config(self.database_url))

    async def close(self) -> None:
        from tortoise import Tortoise

        await Tortoise.close_connections()

    async def queries(self, case: Case, middle: int) -> tuple[Any, Any]:
        from app.accounts.access import Access
        from app.accounts.models import User
        from app.promotions import models, repository

        access = await Access.of(await User.get(email=f"{case.user}@example.com"))
        rows = repository.visible(models.PromotionRequest.filter(
            status=models.PromotionStatus.AWAITING_APPROVAL), access)
        if case.mine:
            rows = repository.pending_with(access, rows)
        page = rows.filter(id__lt=middle) if case.later else rows
        return rows.count(), page.order_by("-id").limit(21)

    async def explain(self, query: Any) -> tuple[float, int, list[str], str]:
        from tortoise import Tortoise

        query.sql()  # builds query.query (params_inline=True misses a subquery's parameters)
        sql, params = query.query.get_parameterized_sql()
        conn = Tortoise.get_connection("default")
        runs = []
        for _ in range(3):
            _, rows = await conn.execute_query(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [row["QUERY PLAN"] for row in rows]
            runs.append(float(plan[-1].split(":")[1].split()[0]))  # "Execution Time: 1.2 ms"
        # Pages read by the whole plan: unlike time, the same on a busy machine and a quiet one.
        buffers = next((line for line in plan if "Buffers:" in line), "")
        hits = sum(int(part.split("=")[1]) for part in buffers.split() if "=" in part)
        return percentile(runs, 50), hits, plan, f"-- {sql}\n-- parameters: {params}"

    async def report(self, figures: list[Latency], middle: int, plans: bool) -> None:
        print(f"\nin Postgres (EXPLAIN ANALYZE, median of 3){'count':>13}{'buffers':>9}"
              f"{'page':>11}{'buffers':>9}")
        shown: list[str] = []
        for case, latency in zip(CASES, figures, strict=True):
            count_query, _ = await self.queries(case, middle)
            if (counted := await count_query) != latency.total_count:
                raise BenchError(f"{case.label}: the rebuilt SQL counts {counted}, the API "
                                 f"said {latency.total_count}: the app's query changed")
            count_query, page_query = await self.queries(case, middle)  # a query runs once
            count_ms, count_buffers, count_plan, count_sql = await self.explain(count_query)
            page_ms, page_buffers, page_plan, page_sql = await self.explain(page_query)
            print(f"{case.label:40}{count_ms:>9.1f} ms{count_buffers:>9,}{page_ms:>8.1f} ms"
                  f"{page_buffers:>9,}")
            if plans and case.user == "reviewer" and not case.later:
                shown += [f"\n== {case.label}: count ==", count_sql, *count_plan,
                          f"\n== {case.label}: page ==", page_sql, *page_plan]
        if shown:
            print("\n".join(shown))


# --------------------------------------------------------------------------------------
# 4. Auto-promotion latency through Redis and the worker
# --------------------------------------------------------------------------------------


@dataclass
class AutoPromotion:
    observed: list[float]  # mutation answered -> a poll saw PROMOTED
    server: list[float]  # promotedAt - createdAt, as the server recorded them


async def auto_promotion(world: World, stack: Stack, sizes: Sizes) -> AutoPromotion:
    heading("4. auto-promotion latency: promoteImage answered -> PROMOTED (Redis + worker)")
    api = world.api
    promoter = world.tokens["promoter"]
    images = await world.images(SHOP, sizes.auto_promotions + 3, "4", sizes.clients)
    result = AutoPromotion([], [])
    cpu = await world.meter.sample()
    async with api.client() as http:
        for n, image in enumerate(images):
            if n == 3:
                cpu = await world.meter.sample()
            data = await api(http, promoter, PROMOTE, {"image": image, "targets": ["staging"]})
            answered = time.perf_counter()
            outcome = data["promoteImage"]["results"][0]
            if outcome["outcome"] != "PROMOTING":
                raise BenchError(f"expected PROMOTING, got {outcome}")
            request_id = outcome["request"]["id"]
            # The first ones also wait for the worker to start: they are not counted.
            deadline = answered + (READY_WITHIN_SECONDS if n < 3 else PROMOTED_WITHIN_SECONDS)
            while True:
                seen = (await api(http, promoter, REQUEST_STATUS, {"id": request_id})
                        )["promotionRequest"]
                if seen["status"] == "PROMOTED":
                    break
                if time.perf_counter() > deadline:
                    stack.check_alive()
                    raise BenchError(f"request {request_id} not PROMOTED in time: {seen}\n"
                                     f"{tail(stack.workdir / 'worker.log')}")
                await asyncio.sleep(POLL_SECONDS)
            if n < 3:
                continue
            result.observed.append(time.perf_counter() - answered)
            created = datetime.fromisoformat(seen["createdAt"])
            promoted = datetime.fromisoformat(seen["promotedAt"])
            result.server.append((promoted - created).total_seconds())
    _, worker_cpu, _ = await world.meter.since(cpu)
    print(f"{sizes.auto_promotions} promotions, one at a time, status polled every "
          f"{POLL_SECONDS * 1000:.0f} ms; worker CPU per promotion "
          f"{worker_cpu / sizes.auto_promotions * 1000:.1f} ms (all its processes)")
    print(f"{'':44}{'p50':>11}{'p95':>11}{'max':>11}")
    for label, values in (("answered -> poll sees PROMOTED", result.observed),
                          ("server: promotedAt - createdAt", result.server)):
        print(f"{label:44}{ms(percentile(values, 50))}{ms(percentile(values, 95))}"
              f"{ms(max(values))}")
    return result


# --------------------------------------------------------------------------------------


async def run(sizes: Sizes, parts: set[str], explain: bool, analyze_all: bool,
              keep_logs: bool) -> None:
    started = time.perf_counter()
    print(f"hoist promotion benchmark, {'quick' if sizes is QUICK else 'full'} mode, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}")
    async with running_stack(keep_logs) as stack:
        print(f"server {stack.url}, database {stack.database}")
        api = Api(stack.url)
        meter = CpuMeter(stack.server.pid, stack.worker.pid, stack.database_url)
        await meter.open()
        try:
            async with api.client() as http:
                world = World(api, http, stack.admin_token, meter)
                heading("1. set-up through GraphQL")
                setup_started = time.perf_counter()
                await set_up(world)
                print(f"users, {SVC_COUNT + 1} applications, workflows, 4 policies: "
                      f"{time.perf_counter() - setup_started:.1f} s")
                if "throughput" in parts:
                    await throughput(world, sizes)
                    stack.check_alive()
                if "pending" in parts:
                    await pending_approvals(world, stack, sizes, explain, analyze_all)
                    stack.check_alive()
                if "auto" in parts:
                    await auto_promotion(world, stack, sizes)
                    stack.check_alive()
        finally:
            await meter.close()
    print(f"\ndone in {time.perf_counter() - started:.0f} s; processes and database removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: about a minute, as a smoke check")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of pendingApprovals' SQL at the largest size")
    parser.add_argument("--analyze-all", action="store_true",
                        help="ANALYZE every table after the bulk load, small ones too "
                        "(default: only the big tables, as autovacuum would)")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the server's and worker's logs (their folder is printed)")
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="run only this part (repeatable); default: all of them")
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    sizes = QUICK if args.quick else FULL

    async def guarded() -> None:
        # SIGTERM cancels like Ctrl-C does, so the clean-up below still runs.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await run(sizes, parts, args.explain, args.analyze_all, args.keep_logs)

    try:
        asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; processes and database removed", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
