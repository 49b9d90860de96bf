"""The whole story, every part a real process, through HTTP and the CLI only.

Once in production shape (Postgres, Redis, `hoist serve`, a `hoist worker`, SMTP) and once
with the embedded default (`hoist serve` alone: SQLite, the in-process worker, SMTP).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.notifications.mailbox import SmtpServer
from tests.support.http_api import Api
from tests.support.live_server import HOIST, LiveServer, running_server, server_env
from tests.support.processes import PrivateRedis, celery_worker
from tests.support.waiting import eventually

WITHIN_SECONDS = 60.0  # real processes, on a machine shared with other suites
APPROVAL_SUBJECT = (
    "Image promotion approval requested | Application: shop | Target environment: prod"
)
MANIFEST = """apiVersion: v1
kind: artifactPromotionPolicy
spec:
  payload:
    applicationEnvironments:
{pairs}
    applyToPolicyName: prod-lane
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@contextmanager
def stack(
    mode: str, tmp_path: Path, smtp: SmtpServer, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    mail = {
        "HOIST_EMAIL_BACKEND": "smtp",
        "HOIST_SMTP_HOST": "127.0.0.1",
        "HOIST_SMTP_PORT": str(smtp.port),
        "HOIST_PUBLIC_URL": "http://hoist.test",
    }
    with ExitStack() as stack:
        if mode == "embedded":
            yield stack.enter_context(running_server(tmp_path, **mail))
            return
        pg_url = request.getfixturevalue("pg_url")
        redis: PrivateRedis = request.getfixturevalue("private_redis")
        settings = {"HOIST_DATABASE_URL": pg_url, "HOIST_BROKER_URL": redis.url, **mail}
        server = stack.enter_context(running_server(tmp_path, **settings))
        stack.enter_context(celery_worker(tmp_path, pg_url, redis.url, **mail))
        yield server


def hoist(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user would run it, against the server."""
    env = {**server_env(server.data_dir), "HOIST_URL": server.url, "HOIST_TOKEN": server.token}
    return subprocess.run(
        [str(HOIST), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def manifest(tmp_path: Path, name: str, *envs: str) -> Path:
    pairs = "\n".join(f"        - appName: shop\n          envName: {env}" for env in envs)
    path = tmp_path / name
    path.write_text(MANIFEST.format(pairs=pairs))
    return path


@pytest.mark.parametrize("mode", ["production", "embedded"])
def test_the_story(
    mode: str, tmp_path: Path, smtp: SmtpServer, request: pytest.FixtureRequest
) -> None:
    with stack(mode, tmp_path, smtp, request) as server:
        admin = Api(server.url, server.token)
        admin.catalog(
            policy=False,
            pipelines=[
                {"environment": "dev"},
                {
                    "environment": "staging",
                    "parentEnvironment": "dev",
                    "preStage": True,
                    "postStage": True,
                },
                {
                    "environment": "prod",
                    "parentEnvironment": "staging",
                    "deploymentApprovalCount": 1,
                },
            ],
        )
        dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
        viewer = admin.user("viewer@example.com", ("VIEWER", "shop", "*"))
        approver = admin.user("approver@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
        approver2 = admin.user("approver2@example.com", ("ARTIFACT_PROMOTER", "*", "*"))
        gatekeeper = admin.user("gate@example.com", ("DEPLOYMENT_APPROVER", "shop", "prod"))
        hotfix = dev.image("1.4.3")
        release = dev.image("1.5.0")
        for env, stages in (("dev", ["DEPLOY"]), ("staging", ["PRE", "DEPLOY", "POST"])):
            for stage in stages:
                dev(
                    """mutation($i: ID!, $e: String!, $s: Stage!) { recordStageResult(input:
                    {imageId: $i, environment: $e, stage: $s, status: SUCCEEDED}) {
                    errors { message } } }""",
                    {"i": release, "e": env, "s": stage},
                )

        # The super-admin writes the policy from a shell, then applies it more widely.
        created = hoist(
            server,
            "create",
            "imagePromotionPolicy",
            "--name=prod-lane",
            "--description=Hotfixes to prod",
            '--passCondition=containerImageTag != ""',
            "--failCondition=false",
            "--approverCount=1",
            "--allowRequestFromApprove=false",
            "--allowImageBuilderFromApprove=false",
            "--allowApproverFromDeploy=false",
            f"--applyPath={manifest(tmp_path, 'apply.yaml', 'prod')}",
        )
        assert created.returncode == 0, created.stderr
        applied = hoist(
            server, "apply", "policy", f"-p={manifest(tmp_path, 'apply2.yaml', 'prod', 'staging')}"
        )
        assert applied.returncode == 0, applied.stderr
        targets = viewer(
            '{ promotionTargets(application: "shop", workflow: "main") { environment { name } } }'
        )["promotionTargets"]
        assert [t["environment"]["name"] for t in targets] == ["staging", "prod"]

        # Promote the hotfix from CI: the two approvers are emailed, once each.
        [r] = dev.promote(hotfix, ["prod"])
        assert r["outcome"] == "AWAITING_APPROVAL"
        hotfix_request = r["request"]["id"]
        eventually(
            lambda: len(smtp.mailbox.received) >= 2, timeout=WITHIN_SECONDS, what="approval emails"
        )
        assert smtp.mailbox.recipients() == ["approver2@example.com", "approver@example.com"]
        assert {m.subject for m in smtp.mailbox.received} == {APPROVAL_SUBJECT}
        assert "1.4.3" in smtp.mailbox.received[0].text
        assert f"http://hoist.test/ui/requests/{hotfix_request}" in smtp.mailbox.received[0].text

        pending = approver("{ pendingApprovals { edges { node { id canApprove } } } }")
        assert pending["pendingApprovals"]["edges"] == [
            {"node": {"id": hotfix_request, "canApprove": True}}
        ]
        [d] = approver(
            """mutation($ids: [ID!]!) { approvePromotionRequests(requestIds: $ids,
            comment: "go") { results { outcome } } }""",
            {"ids": [hotfix_request]},
        )["approvePromotionRequests"]["results"]
        assert d["outcome"] == "PROMOTING"
        eventually(
            lambda: dev.request_status(hotfix_request) == "PROMOTED",
            timeout=WITHIN_SECONDS,
            what="PROMOTED",
        )
        eventually(
            lambda: len(smtp.mailbox.to("dev@example.com")) == 1,
            timeout=WITHIN_SECONDS,
            what="requester email",
        )

        # Promote the release from staging; one approver rejects it, then it is withdrawn.
        [r] = dev.promote(release, ["prod"], {"type": "ENVIRONMENT", "environment": "staging"})
        assert r["outcome"] == "AWAITING_APPROVAL"
        [d] = approver2(
            """mutation($ids: [ID!]!) { rejectPromotionRequests(requestIds: $ids,
            reason: "wait for the freeze to end") { results { outcome } } }""",
            {"ids": [r["request"]["id"]]},
        )["rejectPromotionRequests"]["results"]
        assert d["outcome"] == "REJECTED"
        eventually(
            lambda: len(smtp.mailbox.to("dev@example.com")) == 2,
            timeout=WITHIN_SECONDS,
            what="rejection email",
        )
        assert "wait for the freeze to end" in smtp.mailbox.to("dev@example.com")[-1].text
        [again] = dev.promote(release, ["prod"], {"type": "ENVIRONMENT", "environment": "staging"})
        cancelled = dev(
            """mutation($id: ID!) { cancelPromotionRequest(requestId: $id) {
            request { status } errors { message } } }""",
            {"id": again["request"]["id"]},
        )
        assert cancelled["cancelPromotionRequest"]["request"]["status"] == "CANCELLED"

        # Deploy the promoted hotfix: the target's own deployment approval comes first.
        deploy = """mutation($i: ID!) { deployImage(application: "shop", environment: "prod",
            imageId: $i) { deployment { id } errors { code } } }"""
        assert dev(deploy, {"i": hotfix})["deployImage"]["errors"] == [
            {"code": "DEPLOYMENT_APPROVAL_REQUIRED"}
        ]
        gatekeeper(
            """mutation($i: ID!) { approveDeployment(application: "shop",
            environment: "prod", imageId: $i) { approved } }""",
            {"i": hotfix},
        )
        assert dev(deploy, {"i": hotfix})["deployImage"]["errors"] == []
        history = """{ deploymentHistory(application: "shop", environment: "prod") { edges {
            node { status image { tag } promotedFrom { sourceType requestId
            approvers { email } } } } } }"""
        eventually(
            lambda: (
                viewer(history)["deploymentHistory"]["edges"][0]["node"]["status"] == "SUCCEEDED"
            ),
            timeout=WITHIN_SECONDS,
            what="deployment SUCCEEDED",
        )
        [entry] = viewer(history)["deploymentHistory"]["edges"]
        assert entry["node"]["image"]["tag"] == "1.4.3"
        assert entry["node"]["promotedFrom"] == {
            "sourceType": "CI",
            "requestId": hotfix_request,
            "approvers": [{"email": "approver@example.com"}],
        }
        # Exactly the emails the story should send: approval asked of both approvers for
        # each of the three requests, the requester told of the promotion and the
        # rejection; nothing for the cancellation.
        eventually(
            lambda: len(smtp.mailbox.received) == 8, timeout=WITHIN_SECONDS, what="all emails"
        )
        assert len(smtp.mailbox.to("approver@example.com")) == 3
        assert len(smtp.mailbox.to("approver2@example.com")) == 3
        assert len(smtp.mailbox.to("dev@example.com")) == 2
