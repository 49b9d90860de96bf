"""`hoist serve --workers N`: several server processes on one port, on Postgres.

Which process served a request is read from /proc (tests/support/procfs.py): the one that
holds the server end of the client's connection. Without a broker every process runs its
own embedded job worker; a job another process holds is left to it (the outbox's claim).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.observability.scrape import Scrape
from tests.support import procfs
from tests.support.deployer import Deployer
from tests.support.http_api import Api
from tests.support.live_server import LiveServer, hoist, running_server
from tests.support.stack import running_stack
from tests.support.waiting import eventually

WORKERS = ["--workers", "2"]
WITHIN_SECONDS = 60.0


def server_processes(server: LiveServer) -> list[int]:
    assert server.process is not None
    port = urlsplit(server.url).port
    assert port is not None
    return procfs.server_processes(server.process.pid, port, 2, WITHIN_SECONDS)


class Client:
    """Keep-alive connections to the server, each of which asked GraphQL one question."""

    def __init__(self, server: LiveServer) -> None:
        split = urlsplit(server.url)
        assert split.hostname is not None and split.port is not None
        self.host, self.port, self.token = split.hostname, split.port, server.token
        self.connections: list[http.client.HTTPConnection] = []

    def ask(self) -> int:
        """Open a connection, ask `me` on it and check the answer; its client-side port."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.connections.append(connection)
        body = json.dumps({"query": "{ me { email } }"})
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        connection.request("POST", "/graphql", body, headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        assert answer == {"data": {"me": {"email": "admin@example.com"}}}
        assert connection.sock is not None  # still open: HTTP/1.1 keeps it alive
        return int(connection.sock.getsockname()[1])

    def close(self) -> None:
        for connection in self.connections:
            connection.close()


def promoted_once_each(admin: Api, dev: Api, count: int) -> list[str]:
    """`count` images promoted under approverCount 0 (a request per call, on a connection
    of its own, so both processes take some): each PROMOTED, and promoted exactly once.
    The images' ids."""
    images = [admin.image(f"1.{i}") for i in range(count)]
    requests = [dev.promote(image, ["prod"])[0]["request"]["id"] for image in images]
    eventually(
        lambda: all(dev.request_status(r) == "PROMOTED" for r in requests),
        f"{count} requests PROMOTED",
        WITHIN_SECONDS,
    )
    audit = admin('{ auditLog(action: "promotion.promoted", first: 100) { totalCount } }')
    assert audit["auditLog"]["totalCount"] == count, "each promoted exactly once"
    return images


def test_two_processes_behind_one_port_answer_graphql(pg_url: str, tmp_path: Path) -> None:
    with running_stack(tmp_path, pg_url, serve_args=WORKERS) as stack:
        server = stack.server
        processes = server_processes(server)
        client = Client(server)
        served: set[int] = set()

        def both_served() -> bool:
            # One more connection each time: the kernel hands it to whichever process
            # accepts first, so after a few, each has answered some.
            served.update(procfs.serving(processes, client.port, client.ask()))
            return served == set(processes)

        try:
            eventually(both_served, "a GraphQL answer from each process", WITHIN_SECONDS)
        finally:
            client.close()

        admin = Api(server.url, server.token)
        admin.catalog(approvals=0)
        dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
        promoted_once_each(admin, dev, 6)  # through Celery on the private Redis

        # Whichever process answers /metrics, it adds up every process's counts (their
        # metrics folder: README "Metrics").
        for _ in range(4):
            metrics = Scrape(httpx.get(f"{server.url}/metrics", timeout=WITHIN_SECONDS).text)
            assert metrics.value("hoist_promotions_total", outcome="PROMOTING") == 6


def test_each_process_runs_jobs_and_leaves_a_job_another_holds_to_it(
    pg_url: str, tmp_path: Path
) -> None:
    """No broker: each process's embedded worker runs jobs. A process that starts (here a
    replacement for one killed) hands itself every job not done, the one another process
    is running too: the claim makes it leave that one alone, so the deployer gets one POST."""
    with Deployer(hold_first=True) as deployer:
        settings = {
            "HOIST_DATABASE_URL": pg_url,
            "HOIST_DEPLOY_EXECUTOR": "webhook",
            "HOIST_DEPLOY_WEBHOOK_URL": deployer.url,
            "HOIST_DEPLOY_WEBHOOK_SECRET": "s3cret",
            # The held POST must not time out (and be tried again) while the test acts.
            "HOIST_DEPLOY_WEBHOOK_TIMEOUT_SECONDS": "120",
            "HOIST_LOG_LEVEL": "INFO",  # the skip is logged
        }
        with running_server(tmp_path, args=WORKERS, **settings) as server:
            processes = server_processes(server)
            admin = Api(server.url, server.token)
            admin.catalog(approvals=0)
            dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
            image, *_ = promoted_once_each(admin, dev, 4)

            deployed = dev(
                """mutation($i: ID!) { deployImage(application: "shop", environment: "prod",
                imageId: $i) { deployment { id } errors { message } } }""",
                {"i": image},
            )["deployImage"]
            assert deployed["errors"] == [], deployed
            assert deployer.first_arrived.wait(timeout=WITHIN_SECONDS), "no process called"
            deployer_port = urlsplit(deployer.url).port
            assert deployer_port is not None
            [holder] = procfs.connected_to(processes, deployer_port)  # mid-POST, job held
            [other] = [pid for pid in processes if pid != holder]

            log = tmp_path / "server.log"
            logged_before = len(log.read_bytes())
            os.kill(other, signal.SIGKILL)  # uvicorn's supervisor starts a replacement

            def replacement_skipped_the_job() -> bool:
                # The replacement hands itself the held job at start: it skips it (logged)
                # or, were jobs not claimed, POSTs it a second time.
                since = log.read_bytes()[logged_before:]
                return b"left to that run" in since or len(deployer.received) > 1

            eventually(replacement_skipped_the_job, "the replacement's try", WITHIN_SECONDS)
            assert len(deployer.received) == 1, "two processes ran the same job"
            deployer.release()
            history = """{ deploymentHistory(application: "shop") {
                edges { node { id status } } } }"""
            eventually(
                lambda: (
                    admin(history)["deploymentHistory"]["edges"][0]["node"]["status"] == "RUNNING"
                ),
                "the deployment RUNNING once the deployer answered",
                WITHIN_SECONDS,
            )
            assert len(deployer.received) == 1
            assert holder in procfs.children(server.process.pid)  # never restarted
            # Links follow the --port given to the parent (the processes read HOIST_PORT).
            assert json.loads(deployer.received[0][1])["reportTo"] == f"{server.url}/graphql"


def test_several_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    for args, env, named in (
        (WORKERS, {}, "--workers 2"),
        ([], {"HOIST_WORKERS": "3"}, "HOIST_WORKERS=3"),
    ):
        result = hoist("serve", *args, data_dir=tmp_path, **env)
        assert result.returncode == 2, result
        assert result.stderr.startswith(f"error: {named}: several server processes need PostgreSQL")
        assert "HOIST_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "hoist.sqlite3").exists(), "refused before creating anything"
