"""A no-op Celery task's dispatch latency: the floor under auto-promotion.

The task runs in a Celery worker process of its own (``celery -A bench.ceiling.noop
worker``), on Hoist's Redis (another queue) with Hoist's worker settings (prefork pool,
late acks, prefetch 1). The figure is the time from just before `send_task` to the
moment the task starts, as the task records it (the wall clock of one machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from celery import Celery

from tests.support.processes import stop_group, tail

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "ceiling-noop"
BROKER = os.environ.get("CEILING_NOOP_BROKER", "memory://")
STARTED = "ceiling.started"

noop = Celery("ceiling-noop", broker=BROKER, backend=BROKER)
noop.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
)


@noop.task(name=STARTED)  # type: ignore[untyped-decorator]  # celery: untyped
def started() -> float:
    """When the worker started running it (time.time(), comparable with the sender's)."""
    return time.time()


@contextlib.contextmanager
def noop_worker(broker_url: str, workdir: Path) -> Iterator[Celery]:
    """The no-op worker (2 prefork processes, as `hoist worker`), and a Celery app that
    sends to it; stopped (its process group) on exit."""
    log = workdir / "noop-worker.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    env |= {"PYTHONPATH": str(ROOT), "CEILING_NOOP_BROKER": broker_url}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.ceiling.noop",
                "worker",
                "--concurrency=2",
                "--pool=prefork",
                f"--queues={QUEUE}",
                "--loglevel=WARNING",
            ],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = Celery("ceiling-noop-sender", broker=broker_url, backend=broker_url)
    app.conf.update(task_default_queue=QUEUE)
    try:
        if process.poll() is not None:
            raise RuntimeError(f"the no-op worker exited:\n{tail(log)}")
        yield app
    finally:
        stop_group(process)
        app.close()


def _dispatch(app: Celery, wait: float) -> float:
    sent = time.time()
    result = app.send_task(STARTED, queue=QUEUE)
    began = float(result.get(timeout=wait))
    result.forget()
    return began - sent


async def dispatch_latencies(app: Celery, samples: int) -> list[float]:
    """`samples` no-op tasks, one at a time, after a few not counted: the first ones wait
    for the worker to start (a minute at most)."""
    for _ in range(3):
        await asyncio.to_thread(_dispatch, app, 60.0)
    return [await asyncio.to_thread(_dispatch, app, 30.0) for _ in range(samples)]
