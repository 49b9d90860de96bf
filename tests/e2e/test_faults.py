"""Fault tests on real processes: broker outage, a worker killed mid-task, a dropped
database connection. Each restores what it broke (they use private servers and databases)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx

from tests.support.deployer import Deployer
from tests.support.http_api import Api
from tests.support.live_server import running_server
from tests.support.processes import PrivateRedis, celery_worker, stop_group
from tests.support.waiting import eventually

# The relay re-sends a job not done after 1 s, checking every second.
FAST_RELAY = {"HOIST_OUTBOX_RELAY_AFTER_SECONDS": "1", "HOIST_OUTBOX_RELAY_INTERVAL_SECONDS": "1"}


# Fault recovery waits on relays that re-send every second: more time than the default.
WITHIN_SECONDS = 60.0


def count(api: Api, status: str) -> int:
    data = api(
        "query($s: [PromotionStatus!]) { promotionRequests(status: $s) { totalCount } }",
        {"s": [status]},
    )
    return int(data["promotionRequests"]["totalCount"])


def test_redis_outage_during_fifty_promotions_loses_nothing(
    pg_url: str, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    settings = {"HOIST_DATABASE_URL": pg_url, "HOIST_BROKER_URL": private_redis.url, **FAST_RELAY}
    with (
        running_server(tmp_path, **settings) as server,
        celery_worker(tmp_path, pg_url, private_redis.url, beat=True, **FAST_RELAY),
    ):
        admin = Api(server.url, server.token)
        admin.catalog(approvals=0)
        dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
        images = [admin.image(f"1.{i}") for i in range(50)]
        private_redis.stop()
        outcomes = [dev.promote(image, ["prod"])[0]["outcome"] for image in images]
        assert outcomes == ["PROMOTING"] * 50, "answered while the broker is down"
        assert count(admin, "PROMOTED") == 0
        private_redis.start()
        eventually(lambda: count(admin, "PROMOTED") == 50, "50 requests PROMOTED", WITHIN_SECONDS)
        assert count(admin, "PROMOTING") == 0
        total = admin("{ promotionRequests { totalCount } }")["promotionRequests"]["totalCount"]
        assert total == 50, "nothing doubled"
        audit = admin('{ auditLog(action: "promotion.promoted", first: 100) { totalCount } }')
        assert audit["auditLog"]["totalCount"] == 50, "each promoted exactly once"


def test_worker_killed_mid_task_finishes_once_after_a_new_worker_starts(
    pg_url: str, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    with Deployer(hold_first=True) as deployer:
        executor = {
            "HOIST_DEPLOY_EXECUTOR": "webhook",
            "HOIST_DEPLOY_WEBHOOK_URL": deployer.url,
            "HOIST_DEPLOY_WEBHOOK_SECRET": "s3cret",
            **FAST_RELAY,
        }
        settings = {"HOIST_DATABASE_URL": pg_url, "HOIST_BROKER_URL": private_redis.url, **executor}
        with running_server(tmp_path, **settings) as server:
            admin = Api(server.url, server.token)
            admin.catalog(approvals=0)
            dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
            image = admin.image("1.0")
            with celery_worker(tmp_path, pg_url, private_redis.url, **executor) as worker:
                [result] = dev.promote(image, ["prod"])
                request = result["request"]["id"]
                eventually(
                    lambda: dev.request_status(request) == "PROMOTED", "PROMOTED", WITHIN_SECONDS
                )
                deployed = dev(
                    """mutation($i: ID!) { deployImage(application: "shop",
                    environment: "prod", imageId: $i) { deployment { id } errors { message } }
                    }""",
                    {"i": image},
                )["deployImage"]
                deployment = deployed["deployment"]["id"]
                assert deployer.first_arrived.wait(timeout=60), "the worker never called"
                stop_group(worker, sig=9)  # SIGKILL, mid-task: the POST is still open
            deployer.release()
            status = """query { deploymentHistory(application: "shop") { edges { node {
                id status } } } }"""
            [node] = [e["node"] for e in admin(status)["deploymentHistory"]["edges"]]
            assert node == {"id": deployment, "status": "QUEUED"}, "the kill lost the commit"
            with celery_worker(tmp_path, pg_url, private_redis.url, beat=True, **executor):
                eventually(
                    lambda: (
                        admin(status)["deploymentHistory"]["edges"][0]["node"]["status"]
                        == "RUNNING"
                    ),
                    "deployment handed to the deployer again",
                    WITHIN_SECONDS,
                )
            audit = admin(
                '{ auditLog(action: "deployment.", first: 100) { edges { node { action } } } }'
            )["auditLog"]["edges"]
            assert [e["node"]["action"] for e in audit] == ["deployment.created"]
            # Deliveries are at-least-once: the deployer saw the same delivery id twice.
            ids = {headers["X-Hoist-Delivery"] for headers, _ in deployer.received}
            assert ids == {deployment} and len(deployer.received) == 2
            assert json.loads(deployer.received[-1][1])["deploymentId"] == deployment


def test_dropped_database_connection_mid_request_writes_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    with running_server(tmp_path, HOIST_DATABASE_URL=pg_url) as server:
        admin = Api(server.url, server.token)
        admin("""mutation { createApplication(name: "shop") { errors { message } }
            dev: createEnvironment(name: "dev") { errors { message } } }""")
        create = """mutation { createWorkflow(input: {application: "shop", name: "main",
            ciPipeline: "ci", cdPipelines: [{environment: "dev"}]}) {
            workflow { id } errors { message } } }"""
        answer: dict[str, httpx.Response] = {}
        asyncio.run(_drop_mid_request(pg_url, lambda: answer.update(r=admin.raw(create))))
        response = answer["r"]
        assert response.status_code == 200
        body = response.json()
        # A crash is masked at the top; the mutation's nullable payload is null.
        assert body["data"] == {"createWorkflow": None}
        assert body["errors"][0]["message"] == "Internal error; it has been logged."
        assert "Traceback" not in response.text and "asyncpg" not in response.text
        apps = admin('{ application(name: "shop") { workflows { name } } }')
        assert apps["application"]["workflows"] == [], "the workflow row was rolled back"
        # The pool replaces the dropped connection: the same mutation now works.
        assert admin(create)["createWorkflow"]["errors"] == []


async def _drop_mid_request(pg_url: str, send: Callable[[], object]) -> None:
    """Block the request on a lock after its first INSERT, then kill its connection."""
    dsn = pg_url.replace("postgres://", "postgresql://", 1)
    locker = await asyncpg.connect(dsn)
    try:
        await locker.execute("BEGIN; LOCK TABLE cd_pipelines IN SHARE MODE")
        thread = threading.Thread(target=send)
        thread.start()

        async def waiting_pid() -> int | None:
            pid: int | None = await locker.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            return pid

        await eventually(waiting_pid, "the request waiting on the lock")
        pid = await waiting_pid()
        inserted = await locker.fetchval(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c "
            "ON c.oid = l.relation WHERE l.pid = $1 AND "
            "c.relname = 'workflows' AND l.mode = "
            "'RowExclusiveLock'",
            pid,
        )
        assert inserted == 1, "the request had written its workflow row before it blocked"
        await locker.execute("SELECT pg_terminate_backend($1)", pid)
        await locker.execute("ROLLBACK")
        await asyncio.to_thread(thread.join, 30)
    finally:
        await locker.close()


def test_smtp_outage_delays_emails_but_sends_each_once(
    pg_url: str, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    from tests.notifications.mailbox import SmtpServer

    smtp = SmtpServer()  # its port is chosen, but nothing listens there yet
    mail = {
        "HOIST_EMAIL_BACKEND": "smtp",
        "HOIST_SMTP_HOST": "127.0.0.1",
        "HOIST_SMTP_PORT": str(smtp.port),
        "HOIST_SMTP_TIMEOUT": "2",
        "HOIST_EMAIL_RETRY_BASE_SECONDS": "0.5",
        **FAST_RELAY,
    }
    settings = {"HOIST_DATABASE_URL": pg_url, "HOIST_BROKER_URL": private_redis.url, **mail}
    notifications = (
        "{ notifications(first: 50) { edges { node { recipient state attempts "
        "unreachableTries } } } }"
    )
    with (
        running_server(tmp_path, **settings) as server,
        celery_worker(tmp_path, pg_url, private_redis.url, beat=True, **mail),
    ):
        admin = Api(server.url, server.token)
        admin.catalog(approvals=1)
        dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
        admin.user("ap1@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
        admin.user("ap2@example.com", ("ARTIFACT_PROMOTER", "shop", "*"))
        [r] = dev.promote(admin.image("1.0"), ["prod"])
        assert r["outcome"] == "AWAITING_APPROVAL"

        def nodes() -> list[dict[str, object]]:
            return [e["node"] for e in admin(notifications)["notifications"]["edges"]]

        # Nothing listens: each try finds the server unreachable and uses no attempt.
        eventually(
            lambda: (
                len(nodes()) == 2 and all(int(str(n["unreachableTries"])) >= 1 for n in nodes())
            ),
            timeout=WITHIN_SECONDS,
            what="a failed first try at each email",
        )
        assert {n["state"] for n in nodes()} == {"PENDING"}, "kept for a retry, not failed"
        assert {n["attempts"] for n in nodes()} == {0}
        smtp.start()
        try:
            eventually(
                lambda: {n["state"] for n in nodes()} == {"SENT"}, "emails SENT", WITHIN_SECONDS
            )
            eventually(
                lambda: asyncio.run(_jobs_not_done(pg_url)) == 0, "outbox drained", WITHIN_SECONDS
            )
            assert smtp.mailbox.recipients() == ["ap1@example.com", "ap2@example.com"]
        finally:
            smtp.stop()


async def _jobs_not_done(pg_url: str) -> int:
    conn = await asyncpg.connect(pg_url.replace("postgres://", "postgresql://", 1))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox_jobs WHERE done_at IS NULL"))
    finally:
        await conn.close()


def test_webhook_events_survive_500s_and_a_worker_killed_mid_delivery(
    pg_url: str, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    """Issue 17: every event reaches the receiver (deduplicated by its id, as the README
    asks), though it answered 500 twice and the worker was SIGKILLed mid-POST."""
    hooks = {
        "HOIST_WEBHOOK_ALLOW_PRIVATE": "true",
        "HOIST_WEBHOOK_CLAIM_TIMEOUT_SECONDS": "1",
        "HOIST_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        **FAST_RELAY,
    }
    settings = {"HOIST_DATABASE_URL": pg_url, "HOIST_BROKER_URL": private_redis.url, **hooks}
    with (
        Deployer(answers=[500, 500], hold_first=True) as receiver,
        running_server(tmp_path, **settings) as server,
    ):
        admin = Api(server.url, server.token)
        created = admin(
            """mutation($url: String!) { createWebhookEndpoint(input: {name: "ci-bot",
            url: $url, eventTypes: ["dev.hoist.promotion.requested",
            "dev.hoist.promotion.promoted"]}) {
            secret errors { message } } }""",
            {"url": receiver.url},
        )["createWebhookEndpoint"]
        assert created["errors"] == [], created
        admin.catalog(approvals=0)
        dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
        image = admin.image("1.0")
        with celery_worker(tmp_path, pg_url, private_redis.url, beat=True, **hooks) as worker:
            [result] = dev.promote(image, ["prod"])
            eventually(
                lambda: dev.request_status(result["request"]["id"]) == "PROMOTED",
                "PROMOTED",
                WITHIN_SECONDS,
            )
            assert receiver.first_arrived.wait(timeout=60), "no event was POSTed"
            stop_group(worker, sig=9)  # SIGKILL, mid-POST
        receiver.release()
        with celery_worker(tmp_path, pg_url, private_redis.url, beat=True, **hooks):

            def delivered() -> bool:
                data = admin("{ webhookDeliveries { edges { node { state } } } }")[
                    "webhookDeliveries"
                ]["edges"]
                return len(data) == 2 and all(e["node"]["state"] == "DELIVERED" for e in data)

            eventually(delivered, "every event delivered", WITHIN_SECONDS)
    by_id = {}
    for headers, body in receiver.received:
        by_id.setdefault(headers["X-Hoist-Delivery"], json.loads(body)["type"])
    assert sorted(by_id.values()) == [
        "dev.hoist.promotion.promoted",
        "dev.hoist.promotion.requested",
    ]
    # The held POST and two 500s were tried again: more POSTs than events.
    assert len(receiver.received) >= 2 + 2
