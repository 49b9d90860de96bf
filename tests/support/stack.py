"""The whole production-shaped stack, started by tests and benchmarks alike.

A scratch Postgres database, a private redis-server, `hoist serve` with HOIST_BROKER_URL
(jobs go to Celery), `hoist worker`, and a bootstrapped super-admin. The pieces are the
ones the tests use one by one (live_server.running_server, processes.celery_worker,
processes.PrivateRedis); `running_stack` puts them together once, for tests/e2e and for
bench/ (which imports this module), so the start-up cannot drift between the two.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis

from tests.support.live_server import READY_WITHIN_SECONDS, LiveServer, running_server
from tests.support.processes import PrivateRedis, celery_worker, tail
from tests.support.services import POSTGRES_URL
from tests.support.waiting import TimedOut, eventually

WORKER_READY_WITHIN_SECONDS = 60.0


def _dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def create_scratch_database(url: str, name: str) -> str:
    """A new empty database beside the one in `url` (so parallel test runs never collide)."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.rsplit("/", 1)[0] + f"/{name}"


async def drop_scratch_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(name: str, beside: str = POSTGRES_URL) -> AsyncIterator[str]:
    """An empty database `name` beside `beside` (the server migrates it), dropped on exit."""
    url = await create_scratch_database(beside, name)
    try:
        yield url
    finally:
        await drop_scratch_database(beside, name)


@dataclass(frozen=True)
class Stack:
    workdir: Path  # the processes' data folder and logs
    database_url: str
    redis: PrivateRedis  # a test may stop and start it
    server: LiveServer
    worker: subprocess.Popen[bytes]

    def check_alive(self) -> None:
        """Raise, with the log's tail, if the server or the worker has exited."""
        for name, process, log in (
            ("hoist serve", self.server.process, "server.log"),
            ("hoist worker", self.worker, "worker.log"),
        ):
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}:\n{tail(self.workdir / log)}"
                )


@contextmanager
def running_stack(
    workdir: Path,
    database_url: str,
    *,
    concurrency: int = 1,
    beat: bool = False,
    server_database_url: str | None = None,
    serve_args: Sequence[str] = (),
    server_ready_within: float = READY_WITHIN_SECONDS,
    **settings: str,
) -> Iterator[Stack]:
    """Redis, server and worker on `database_url`, with extra HOIST_ `settings` for both;
    stopped in reverse order on exit (the worker before its broker).

    `server_database_url` points `hoist serve` alone elsewhere (bench/ceiling: a proxy
    that counts its round trips to the same database); `serve_args` go to `hoist serve`,
    which has `server_ready_within` seconds to answer."""
    with ExitStack() as stack:
        redis = PrivateRedis(workdir)
        redis.start()
        stack.callback(redis.stop)
        env = {
            "HOIST_DATABASE_URL": server_database_url or database_url,
            "HOIST_BROKER_URL": redis.url,
            **settings,
        }
        server = stack.enter_context(
            running_server(workdir, args=serve_args, ready_within=server_ready_within, **env)
        )
        worker = stack.enter_context(
            celery_worker(
                workdir, database_url, redis.url, concurrency=concurrency, beat=beat, **settings
            )
        )
        ready = Stack(workdir, database_url, redis, server, worker)
        _wait_until_consuming(ready)
        yield ready


def _wait_until_consuming(stack: Stack) -> None:
    """Wait for the worker to block on BRPOP, i.e. to take jobs: before that its start-up
    (imports, pool forks) would run in whatever the caller measures or waits on first."""
    client = redis.Redis(port=stack.redis.port)

    def consuming() -> bool:
        stack.check_alive()
        return any(c.get("cmd") == "brpop" for c in client.client_list())

    try:
        eventually(consuming, "hoist worker consuming from Redis", WORKER_READY_WITHIN_SECONDS)
    except TimedOut as exc:
        raise RuntimeError(f"{exc}:\n{tail(stack.workdir / 'worker.log')}") from None
    finally:
        client.close()
