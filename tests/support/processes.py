"""Real processes for tests: a Celery worker (`hoist worker`) and a private Redis server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.live_server import HOIST, server_env
from tests.support.services import free_port, require_program
from tests.support.waiting import eventually

READY_WITHIN_SECONDS = 10.0


def tail(log: Path, chars: int = 3000) -> str:
    """The end of a process's log, for an error message."""
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


@contextmanager
def celery_worker(
    data_dir: Path,
    database_url: str,
    broker_url: str,
    *,
    beat: bool = False,
    concurrency: int = 1,
    **settings: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """`hoist worker` as a subprocess (its own process group), stopped on exit. Tests use
    one pool process; the benchmarks pass `hoist worker`'s defaults (2, with beat)."""
    log = data_dir / "worker.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                str(HOIST),
                "worker",
                "--concurrency",
                str(concurrency),
                "--beat" if beat else "--no-beat",
            ],
            env={
                **server_env(data_dir),
                "HOIST_LOG_LEVEL": "INFO",
                "HOIST_DATABASE_URL": database_url,
                "HOIST_BROKER_URL": broker_url,
                **settings,
            },
            cwd=data_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a process and its children (a Celery worker's pool), killing them if need be."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Pool children may outlive a SIGKILLed parent: make sure none is left.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that a test may stop and start."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = require_program("redis-server")
        process = self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False  # not listening yet

        try:
            eventually(answers, "redis-server answering PING", READY_WITHIN_SECONDS, interval=0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def running_redis(workdir: Path) -> Iterator[PrivateRedis]:
    """A started PrivateRedis, stopped on exit."""
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
