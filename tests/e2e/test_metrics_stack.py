"""Metrics of the real stack: `hoist serve` and a `hoist worker` sharing one metrics folder,
scraped with Prometheus's text parser, then by a real Prometheus server (Debian's package).

One test, one stack: a promotion, its approval and the emails they cause, counted in the
process that did each (the API counts the promotion and the approval, the worker's pool
the job and the emails), and added up by /metrics.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from tests.notifications.mailbox import SmtpServer, running_smtp
from tests.observability.scrape import Scrape, moved
from tests.support.http_api import Api
from tests.support.processes import stop_group
from tests.support.services import POSTGRES_URL, free_port, require, require_program
from tests.support.stack import (
    Stack,
    create_scratch_database,
    drop_scratch_database,
    running_stack,
)
from tests.support.waiting import eventually

TOKEN = "metrics-e2e-7c1f"
WITHIN_SECONDS = 60.0  # real processes on a machine shared with other suites
PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hoist-api
    authorization:
      credentials: {token}
    static_configs:
      - targets: ["{target}"]
"""


def scrape(url: str) -> Scrape:
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return Scrape(response.text)


def counters_by_pid(folder: Path) -> dict[int, set[str]]:
    """Which counters each process wrote a non-zero value to (its own file in the folder)."""
    names: dict[int, set[str]] = defaultdict(set)
    for file in folder.glob("counter_*.db"):
        pid = int(file.stem.rsplit("_", 1)[1])
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(file)):
            if value:
                names[pid].add(json.loads(key)[1])
    return names


def settled(admin: Api, request_id: str) -> bool:
    data = admin(
        """query($id: ID!) { promotionRequest(id: $id) { status }
        outboxJobs(state: PENDING) { totalCount } notifications(state: PENDING) { totalCount } }""",
        {"id": request_id},
    )
    return (
        data["promotionRequest"]["status"] == "PROMOTED"
        and data["outboxJobs"]["totalCount"] == 0
        and data["notifications"]["totalCount"] == 0
    )


@contextmanager
def prometheus(binary: str, workdir: Path, target: str) -> Iterator[str]:
    """Debian's Prometheus scraping `target` every second with the token; its URL."""
    config = workdir / "prometheus.yml"
    config.write_text(PROMETHEUS_CONFIG.format(token=TOKEN, target=target))
    port = free_port()
    with (workdir / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(process)


def promql(url: str, query: str) -> Any:
    """The value of an instant query with one result, or None (no series yet, not up yet)."""
    try:
        body = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()
    except httpx.TransportError:
        return None
    results = body["data"]["result"] if body.get("status") == "success" else []
    return float(results[0]["value"][1]) if results else None


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@dataclass(frozen=True)
class MetricsStack:
    stack: Stack
    worker_metrics_url: str  # HOIST_WORKER_METRICS_PORT's


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[MetricsStack]:
    require("PostgreSQL", "127.0.0.1", 5432)
    workdir = tmp_path_factory.mktemp("metrics-stack")
    name = f"hoist_metrics_{os.getpid()}"
    url = asyncio.run(create_scratch_database(POSTGRES_URL, name))
    worker_port = free_port()
    try:
        with running_stack(
            workdir,
            url,
            HOIST_METRICS_TOKEN=TOKEN,
            HOIST_METRICS_DIR=str(workdir / "metrics"),
            HOIST_WORKER_METRICS_PORT=str(worker_port),
            HOIST_EMAIL_BACKEND="smtp",
            HOIST_SMTP_HOST="127.0.0.1",
            HOIST_SMTP_PORT=str(smtp.port),
            HOIST_PUBLIC_URL="http://hoist.test",
        ) as stack:
            yield MetricsStack(stack, f"http://127.0.0.1:{worker_port}")
    finally:
        asyncio.run(drop_scratch_database(POSTGRES_URL, name))


def test_counters_add_up_across_server_and_worker_and_prometheus_reads_them(
    running: MetricsStack, smtp: SmtpServer
) -> None:
    stack = running.stack
    server = stack.server
    admin = Api(server.url, server.token)
    admin.catalog(approvals=1)
    dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
    approver = admin.user("approver@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
    image = dev.image("3.1.4")
    # Started first, so that it is up by the time it is asked; without the program, the
    # rest runs and the test is skipped (or failed, in CI) at the end.
    binary = shutil.which("prometheus")
    target = server.url.removeprefix("http://")
    with prometheus(binary, stack.workdir, target) if binary else nullcontext() as prom:
        before = scrape(server.url)
        mails_before = len(smtp.mailbox.received)

        [result] = dev.promote(image, ["prod"])
        assert result["outcome"] == "AWAITING_APPROVAL"
        request_id = result["request"]["id"]
        approved = approver(
            """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids) {
            results { outcome } errors { message } } }""",
            {"ids": [request_id]},
        )["approvePromotionRequests"]
        assert [r["outcome"] for r in approved["results"]] == ["PROMOTING"]
        eventually(lambda: settled(admin, request_id), "promoted, no job or email left", 60)
        after = scrape(server.url)

        # In the API process: the promotion, the approval, its wait.
        assert moved(before, after, "hoist_promotions_total", outcome="AWAITING_APPROVAL") == 1
        assert moved(before, after, "hoist_promotions_total") == 1
        decisions = "hoist_approval_decisions_total"
        assert moved(before, after, decisions, kind="APPROVE", outcome="PROMOTING") == 1
        assert moved(before, after, "hoist_approval_wait_seconds_count") == 1
        ops = "hoist_graphql_operations_total"
        assert moved(before, after, ops, operation="promoteImage", result="success") == 1
        # In the worker's pool: the promote job, the request's end, every email it sent.
        job = "hoist_worker_job_duration_seconds_count"
        assert moved(before, after, job, task="promotions.promote") == 1
        lifetime = "hoist_promotion_request_lifetime_seconds_count"
        assert moved(before, after, lifetime, status="PROMOTED") == 1
        mails = len(smtp.mailbox.received) - mails_before
        assert mails >= 1, "the approver was emailed"
        assert moved(before, after, "hoist_emails_total", provider="smtp", result="sent") == mails
        assert moved(before, after, "hoist_emails_total") == mails
        for value in after.label_values():  # bounded labels: no tag, no address
            assert "3.1.4" not in value and "@" not in value, value

        # The sum spans two processes: each counter is in the file of the process that
        # counted it, the server's or one of the worker's pool.
        by_pid = counters_by_pid(stack.workdir / "metrics")
        assert server.process is not None
        assert "hoist_promotions_total" in by_pid[server.process.pid]
        assert "hoist_emails_total" not in by_pid[server.process.pid]
        pool = {pid for pid in by_pid if pid != server.process.pid and _in_group(pid, stack)}
        assert any("hoist_emails_total" in by_pid[pid] for pid in pool), by_pid

        # The worker's own port (HOIST_WORKER_METRICS_PORT): the same folder, the token too.
        worker_url = running.worker_metrics_url
        assert httpx.get(f"{worker_url}/metrics").status_code == 401
        assert scrape(worker_url).value("hoist_emails_total") == after.value("hoist_emails_total")

        # A real Prometheus scraped /metrics with the token and answers PromQL.
        if prom is None:
            require_program("prometheus")  # skips, or fails with HOIST_TEST_REQUIRE_SERVICES
            return
        total = after.value("hoist_promotions_total")
        eventually(
            lambda: promql(prom, "sum(hoist_promotions_total)") == total,
            f"Prometheus answering sum(hoist_promotions_total) == {total}",
            WITHIN_SECONDS,
            interval=0.2,
        )
        awaiting = 'hoist_promotions_total{outcome="AWAITING_APPROVAL"}'
        assert promql(prom, f"sum({awaiting})") == after.value(
            "hoist_promotions_total", outcome="AWAITING_APPROVAL"
        )


def _in_group(pid: int, stack: Stack) -> bool:
    try:
        return os.getpgid(pid) == stack.worker.pid
    except ProcessLookupError:
        return False
