"""A poison job: its handler always raises. Its failures are recorded and spaced out, it
stops after HOIST_OUTBOX_MAX_ATTEMPTS as DEAD, /healthz counts it, a super-admin retries it.

The poison is real: a `deployments.execute` job whose payload names no deployment id (as a
job written by a broken or older version would), run by the real handler, worker and relay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.db import unit_of_work
from app.ids import global_id
from app.outbox import service as outbox
from app.outbox.embedded import EmbeddedWorker
from app.outbox.models import OutboxJob
from app.settings import get_settings
from tests.cli.runner import as_json, failed, hoist, succeeded
from tests.conftest import People
from tests.notifications.helpers import configure
from tests.support.catalog import refused
from tests.support.graphql import GraphQLClient
from tests.support.live_server import running_server
from tests.support.waiting import eventually

POISON = {"task": "deployments.execute", "deployment_id": "not-a-number"}
JOBS = "{ outboxJobs { edges { node { id task state attempts lastError deadAt } } } }"
RETRY = """mutation($id: ID!) { retryOutboxJob(id: $id) {
  job { id state attempts lastError } errors { code message field } } }"""


async def write_poison() -> OutboxJob:
    async with unit_of_work():
        return await outbox.enqueue(POISON["task"], deployment_id=POISON["deployment_id"])


@pytest.fixture
def no_dispatcher() -> Iterator[None]:
    yield
    outbox.set_dispatcher(None)


def test_backoff_doubles_up_to_its_cap() -> None:
    settings = get_settings().model_copy(
        update={"outbox_retry_base_seconds": 5, "outbox_retry_max_seconds": 600}
    )
    waits = [outbox.backoff(n, settings).total_seconds() for n in range(1, 11)]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]
    assert outbox.backoff(10_000, settings).total_seconds() == 600


async def test_the_embedded_worker_gives_up_on_a_poison_job(
    db: str, monkeypatch: pytest.MonkeyPatch, no_dispatcher: None
) -> None:
    configure(
        monkeypatch,
        outbox_max_attempts=3,
        outbox_retry_base_seconds=0.02,
        outbox_retry_max_seconds=0.05,
    )
    worker = EmbeddedWorker(relay_after=0.2, relay_every=0.02)
    outbox.set_dispatcher(worker)
    await worker.start()
    try:
        job = await write_poison()

        async def dead() -> bool:
            await job.refresh_from_db()
            return job.dead_at is not None

        await eventually(dead, what="the poison job DEAD")
    finally:
        await worker.stop()
    # Each failure recorded; three runs, then no more (not one per relay pass forever).
    assert job.attempts == 3 and job.done_at is None
    assert job.last_error is not None and job.last_error.startswith("ValueError: ")
    assert job.handovers >= 3
    assert await outbox.relay(older_than=timedelta(0)) == 0, "a DEAD job is not handed over"
    assert await outbox.run_job(job.id) is False and (await OutboxJob.get(id=job.id)).attempts == 3


async def test_a_failed_run_waits_for_its_backoff(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, outbox_max_attempts=5, outbox_retry_base_seconds=3600)
    job = await write_poison()
    assert await outbox.run_job(job.id) is False
    await job.refresh_from_db()
    assert (job.attempts, job.dead_at) == (1, None) and job.retry_at is not None
    # Neither the relay nor a stray second delivery runs it again before retry_at.
    assert await outbox.relay(older_than=timedelta(0)) == 0
    assert await outbox.run_job(job.id) is False
    assert (await OutboxJob.get(id=job.id)).attempts == 1


async def test_only_super_admins_list_and_retry_jobs(
    gql: GraphQLClient, people: People, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, outbox_max_attempts=1)
    viewer = await people.token("viewer@example.com")
    job = await write_poison()
    done = await write_poison()
    await OutboxJob.filter(id=done.id).update(done_at=job.created_at)
    await outbox.run_job(job.id)  # the one attempt allowed: DEAD
    assert await gql.error_code(JOBS, token=viewer) == "FORBIDDEN"
    job_gid = global_id("OutboxJob", job.id)
    body = await gql.raw(RETRY, {"id": job_gid}, token=viewer)
    assert refused(body, "retryOutboxJob") == "FORBIDDEN"
    data = await gql(JOBS, token=admin)
    [node] = [e["node"] for e in data["outboxJobs"]["edges"]]
    assert node["id"] == job_gid and node["state"] == "DEAD" and node["attempts"] == 1
    for bad, code in (
        (global_id("OutboxJob", done.id), "NOT_DEAD"),
        (global_id("OutboxJob", 999999), "NOT_FOUND"),
        (str(job.id), "NOT_FOUND"),  # the DEAD job's bare row number is no id
    ):
        errors = (await gql(RETRY, {"id": bad}, token=admin))["retryOutboxJob"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, "id")]


def cli_ok(server: Any, tmp_path: Path, *args: str) -> Any:
    return as_json(hoist(server, tmp_path, *args, "-o", "json"))


async def test_hoist_serve_gives_up_and_a_super_admin_retries_through_the_cli(
    db_url: str, tmp_path: Path, people: People
) -> None:
    """`hoist serve`'s embedded worker and relay run the job; the CLI sees and retries it
    over the API; /healthz counts it."""
    settings = {
        "HOIST_DATABASE_URL": db_url,
        "HOIST_OUTBOX_MAX_ATTEMPTS": "2",
        "HOIST_OUTBOX_RETRY_BASE_SECONDS": "0.05",
        "HOIST_OUTBOX_RETRY_MAX_SECONDS": "0.1",
        "HOIST_OUTBOX_RELAY_AFTER_SECONDS": "0.2",
        "HOIST_OUTBOX_RELAY_INTERVAL_SECONDS": "0.1",
    }
    # Written here, where nothing hands it over: the server's relay finds it.
    job = await write_poison()

    async def attempts_dead(count: int) -> bool:
        row = await OutboxJob.get(id=job.id)
        return row.dead_at is not None and row.attempts == count

    with running_server(tmp_path, **settings) as server:
        await eventually(lambda: attempts_dead(2), what="the poison job DEAD in the server")
        assert httpx.get(f"{server.url}/healthz").json()["deadJobs"] == 1
        [listed] = cli_ok(server, tmp_path, "get", "jobs")
        job_gid = global_id("OutboxJob", job.id)
        assert (listed["id"], listed["task"], listed["state"], listed["attempts"]) == (
            job_gid,
            "deployments.execute",
            "DEAD",
            2,
        )
        assert listed["lastError"].startswith("ValueError: ")
        text = succeeded(hoist(server, tmp_path, "get", "jobs"))
        assert job_gid in text and "DEAD" in text and "ValueError" in text

        retried = cli_ok(server, tmp_path, "retry", "job", job_gid)
        # No longer DEAD (the server may run it again at once, so /healthz is not read
        # here: the poison job can be DEAD again within a tenth of a second).
        assert (retried["state"], retried["attempts"]) == ("PENDING", 0)
        # Retried, it really runs again: two new attempts, DEAD again (still poison).
        await eventually(lambda: attempts_dead(2), what="the retried job run and DEAD again")
        assert httpx.get(f"{server.url}/healthz").json()["deadJobs"] == 1
        missing = global_id("OutboxJob", 999999)
        again = failed(hoist(server, tmp_path, "retry", "job", missing), 1, "NOT_FOUND")
        assert f"no worker job has id {missing}" in again
        viewer = await people.token("viewer@example.com")
        failed(hoist(server, tmp_path, "get", "jobs", HOIST_TOKEN=viewer), 3, "FORBIDDEN")
    assert (await OutboxJob.get(id=job.id)).handovers >= 4
