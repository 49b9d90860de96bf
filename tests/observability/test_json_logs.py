"""HOIST_LOG_FORMAT=json on the real server, with tracing on: every line is one JSON object
with the request id, trace id, operation and user id, and no line carries an API token, an
email link's token, a password or an email's body, though the flow used them all (a token
in a query string too, where only the redaction stands in the way)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.ids import row_id
from app.notifications.delivery import SEND_JOB
from app.promotions.transitions import PROMOTE_JOB
from tests.notifications.mailbox import Received, SmtpServer
from tests.support.live_server import LiveServer, running_server
from tests.support.otlp import Collector, running_collector
from tests.support.waiting import eventually

WITHIN_SECONDS = 30.0  # the embedded worker and the span batches, on a busy machine
SMTP_USER, SMTP_PASSWORD = "hoist-mailer", "Tr0ub4dor-and-3"
SECRET_KEY = "link-signing-key-that-must-stay-secret"
APPROVER = "avery@example.com"
REQUIRED = {"timestamp", "level", "logger", "message", "request_id", "trace_id", "span_id"}
REQUIRED |= {"operation", "user_id"}

SETUP = """mutation SetUpShop {
  createApplication(name: "shop") { errors { message } }
  dev: createEnvironment(name: "dev") { errors { message } }
  prod: createEnvironment(name: "prod", production: true) { errors { message } }
  createWorkflow(input: {application: "shop", name: "main", ciPipeline: "ci",
    cdPipelines: [{environment: "dev"}, {environment: "prod", parentEnvironment: "dev"}]})
    { errors { message } }
  createPromotionPolicy(input: {name: "one-approval", approverCount: 1}) { errors { message } }
  applyPromotionPolicy(policy: "one-approval",
    applicationEnvironments: [{appName: "shop", envName: "prod"}]) { errors { message } }
  registerImage(input: {application: "shop", workflow: "main",
    image: "registry.example.com/shop:1.0"}) { image { id } errors { message } }
  createUser(input: {email: "avery@example.com", name: "Avery"}) { errors { message } }
  grantRole(email: "avery@example.com", role: ARTIFACT_PROMOTER, application: "shop",
    environment: "prod") { errors { message } }
  createApiToken(name: "laptop", email: "avery@example.com") { token errors { message } }
}"""
PROMOTE = """mutation PromoteToProd($image: ID!) {
  promoteImage(imageId: $image, source: {type: CI}, targetEnvironments: ["prod"])
    { results { outcome request { id } } errors { message } }
}"""
WHO_AM_I = "query WhoAmI { me { id email } }"
STATUS = "query RequestStatus($id: ID!) { promotionRequest(id: $id) { status } }"


class AuthenticatingSmtp(SmtpServer):
    """The test SMTP server, asking for a login (plain AUTH, loopback only)."""

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any):  # type: ignore[no-untyped-def]
            ok = (auth.login, auth.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
            return AuthResult(success=ok)

        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_require_tls=False,
        )
        self.controller.start()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = AuthenticatingSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    with running_collector() as running:
        yield running


@pytest.fixture(scope="module")
def json_server(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer, collector: Collector
) -> Iterator[LiveServer]:
    with running_server(
        tmp_path_factory.mktemp("json-logs"),
        HOIST_LOG_FORMAT="json",
        HOIST_LOG_LEVEL="INFO",  # the access log too
        HOIST_EMAIL_BACKEND="smtp",
        HOIST_SMTP_HOST="127.0.0.1",
        HOIST_SMTP_PORT=str(smtp.port),
        HOIST_SMTP_USER=SMTP_USER,
        HOIST_SMTP_PASSWORD=SMTP_PASSWORD,
        HOIST_SECRET_KEY=SECRET_KEY,
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="100",  # ms: spans reach the collector soon
    ) as server:
        yield server


def _call(
    server: LiveServer,
    query: str,
    token: str,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> httpx.Response:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
        timeout=15,
    )
    body = response.json()
    assert not body.get("errors"), body
    return response


def _data(response: httpx.Response) -> dict[str, Any]:
    data: dict[str, Any] = response.json()["data"]
    return data


def _approval_email(smtp: SmtpServer) -> Received:
    eventually(lambda: smtp.mailbox.to(APPROVER), "the approval email", WITHIN_SECONDS)
    [email] = smtp.mailbox.to(APPROVER)
    return email


def _lines(log: Path) -> list[dict[str, Any]]:
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line[:300]}")
    return parsed


def test_json_lines_carry_the_context_and_no_secret(
    json_server: LiveServer, smtp: SmtpServer, collector: Collector
) -> None:
    server, admin = json_server, json_server.token
    setup = _data(_call(server, SETUP, admin))
    image, avery = setup["registerImage"]["image"]["id"], setup["createApiToken"]["token"]

    promoted = _call(server, PROMOTE, admin, image=image)
    [result] = _data(promoted)["promoteImage"]["results"]
    assert result["outcome"] == "AWAITING_APPROVAL"
    request = result["request"]["id"]
    # The approver's token in use, with a request id of the caller's; one that isn't sane
    # (too long, odd characters) is replaced by one of the server's.
    me = _call(server, WHO_AM_I, avery, headers={"X-Request-Id": "edge-7f3a.1"})
    assert me.headers["X-Request-Id"] == "edge-7f3a.1"
    avery_id = row_id(_data(me)["me"]["id"], "User")
    odd = _call(server, WHO_AM_I, avery, headers={"X-Request-Id": "x" * 65})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-Id"])
    # A token where none belongs, in a query string: only the redaction keeps it out.
    httpx.get(f"{server.url}/graphql", params={"query": "{ __typename }", "token": avery})

    email = _approval_email(smtp)
    links = dict(re.findall(r"/email/(approve|reject)/([\w.\-]+)", email.text))
    assert set(links) == {"approve", "reject"}, email.text
    approve = f"{server.url}/email/approve/{links['approve']}"
    assert httpx.get(approve, timeout=15).status_code == 200
    assert httpx.post(approve, data={"comment": "fine"}, timeout=15).status_code == 200
    eventually(
        lambda: (
            _data(_call(server, STATUS, admin, id=request))["promotionRequest"]["status"]
            == "PROMOTED"
        ),
        "the promotion",
        WITHIN_SECONDS,
    )
    eventually(
        lambda: collector.named(f"hoist.job {PROMOTE_JOB}"), "the job's span", WITHIN_SECONDS
    )

    lines = _lines(server.data_dir / "server.log")
    for line in lines:
        assert set(line) >= REQUIRED, line
    # The caller's request id, user id (never the email), the operation and the trace.
    [who] = [
        line
        for line in lines
        if line["request_id"] == "edge-7f3a.1" and line["logger"] == "uvicorn.access"
    ]
    assert (who["operation"], who["user_id"]) == ("WhoAmI", avery_id)
    assert re.fullmatch(r"[0-9a-f]{32}", who["trace_id"]) and who["span_id"]
    [promote] = [
        line
        for line in lines
        if line["operation"] == "PromoteToProd" and line["logger"] == "uvicorn.access"
    ]
    assert promote["request_id"] == promoted.headers["X-Request-Id"]
    assert APPROVER not in json.dumps([line["user_id"] for line in lines])

    log = (server.data_dir / "server.log").read_text()
    secrets = {
        "the super-admin's API token": admin,
        "the approver's API token": avery,
        "the approve link's token": links["approve"],
        "the reject link's token": links["reject"],
        "the SMTP password": SMTP_PASSWORD,
        "the link-signing key": SECRET_KEY,
    }
    for what, secret in secrets.items():
        assert secret not in log, f"{what} was logged"
    body = [line.strip() for line in email.text.splitlines() if len(line.strip()) > 30]
    assert body, email.text
    for text in body:
        assert text not in log, f"the email's body was logged: {text!r}"
    assert "/email/approve/<token>" in log  # the link's use is logged, without its token

    # The spans have none either (an email link's path is its token), and the promotion
    # job, run by the server's embedded worker, continues the approval's trace.
    spans = json.dumps([[s.name, s.attributes] for s in collector.received()])
    for what, secret in secrets.items():
        assert secret not in spans, f"{what} is in a span"
    [job] = collector.named(f"hoist.job {PROMOTE_JOB}")
    assert job.service == "hoist-api"
    assert "POST /email/approve/<token>" in [s.name for s in collector.ancestors(job)]
    # The approval email's job continues the promote mutation's trace.
    send = min(collector.named(f"hoist.job {SEND_JOB}"), key=lambda s: s.attributes["hoist.job.id"])
    names = [s.name for s in collector.ancestors(send)]
    assert "GraphQL Query: PromoteToProd" in names and names[-1] == "POST /graphql"
