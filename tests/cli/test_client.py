"""The policy commands of `hoist` against the real server (in-process runs, and the console
script where its own argument handling is under test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import _split_short_equals
from tests.cli.runner import failed, hoist, hoist_process, succeeded
from tests.support.live_server import LiveServer
from tests.support.services import free_port

MANIFEST = """\
apiVersion: v1
kind: artifactPromotionPolicy
spec:
  payload:
    applicationEnvironments:
{pairs}
    applyToPolicyName: {policy}
"""


def manifest(folder: Path, file: str, policy: str, *pairs: tuple[str, str]) -> Path:
    lines = "\n".join(f"      - appName: {a}\n        envName: {e}" for a, e in pairs)
    path = folder / file
    path.write_text(MANIFEST.format(pairs=lines, policy=policy))
    return path


def graphql(server: LiveServer, query: str, token: str | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token or server.token}"},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    """The live server with app1 (env-demo -> prod) and app2 (env-demo), made over GraphQL."""
    data = graphql(
        live_server,
        """mutation {
      a1: createApplication(name: "app1") { errors { message } }
      a2: createApplication(name: "app2") { errors { message } }
      e1: createEnvironment(name: "env-demo") { errors { message } }
      e2: createEnvironment(name: "prod", production: true) { errors { message } }
      w1: createWorkflow(input: {application: "app1", name: "main", ciPipeline: "ci1",
          cdPipelines: [{environment: "env-demo"},
                        {environment: "prod", parentEnvironment: "env-demo"}]})
          { errors { message } }
      w2: createWorkflow(input: {application: "app2", name: "main", ciPipeline: "ci2",
          cdPipelines: [{environment: "env-demo"}]}) { errors { message } }
      u: createUser(input: {email: "dev@example.com", name: "Dev"}) { errors { message } }
    }""",
    )
    assert all(not result["errors"] for result in data.values()), data
    return live_server


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_policy_lifecycle(server: LiveServer, folder: Path) -> None:
    first = manifest(folder, "applyPolicy.yaml", "example-policy", ("app1", "env-demo"))
    out = succeeded(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=example-policy",
            "--description=Hotfixes for the demo",
            '--passCondition=containerImageTag != ""',
            "--failCondition=false",
            "--approverCount=1",
            "--allowRequestFromApprove=false",
            "--allowImageBuilderFromApprove=true",
            "--allowApproverFromDeploy",
            "false",
            f"--applyPath={first.name}",
        )
    )
    assert out == (
        "created policy example-policy (version 1)\napplied example-policy to app1/env-demo\n"
    )

    shown = json.loads(
        succeeded(hoist(server, folder, "get", "policy", "example-policy", "--output", "json"))
    )
    assert shown == {
        "name": "example-policy",
        "description": "Hotfixes for the demo",
        "version": 1,
        "passCondition": 'containerImageTag != ""',
        "failCondition": "false",
        "approverCount": 1,
        "allowRequestFromApprove": False,
        "allowImageBuilderFromApprove": True,
        "allowApproverFromDeploy": False,
        # No time limits unless asked for; the defaults of the counts.
        "requestTimeout": None,
        "approvalMaxAge": None,
        "remindAfter": None,
        "maxReminders": 2,
        "breakGlassApproverCount": 1,
        "enforcement": "ENFORCE",
        "bindings": [{"appName": "app1", "envName": "env-demo"}],
    }
    text = succeeded(hoist(server, folder, "get", "policy", "example-policy"))
    assert "bindings:" in text and "app1/env-demo" in text

    other = manifest(folder, "other.yaml", "example-policy", ("app2", "env-demo"))
    # The console script itself, for the seed's `-p=path` form.
    assert succeeded(hoist_process(server, folder, "apply", "policy", f"-p={other.name}")) == (
        "applied example-policy to app2/env-demo\n"
    )
    # The other spellings of the option; re-applying the same policy is a quiet success.
    for args in (["-p", other.name], ["--path", other.name], [f"--path={other.name}"]):
        assert "app2/env-demo" in succeeded(hoist(server, folder, "apply", "policy", *args))

    table = succeeded(hoist(server, folder, "get", "policies")).splitlines()
    assert table[0].split() == ["NAME", "VERSION", "APPROVERS", "PASS", "FAIL", "BINDINGS"]
    [row] = [line for line in table if line.startswith("example-policy ")]
    assert row.split() == [
        "example-policy",
        "1",
        "1",
        "containerImageTag",
        "!=",
        '""',
        "false",
        "2",
    ]
    # Aligned: every column starts where its heading does.
    for heading in ("VERSION", "APPROVERS", "PASS", "FAIL", "BINDINGS"):
        assert row[table[0].index(heading) - 1] == " " != row[table[0].index(heading)]
    listed = json.loads(succeeded(hoist(server, folder, "get", "policies", "-o", "json")))
    assert {p["name"] for p in listed} >= {"example-policy"}

    assert succeeded(hoist(server, folder, "delete", "policy", "example-policy")) == (
        "deleted policy example-policy\n"
    )
    failed(
        hoist(server, folder, "get", "policy", "example-policy"),
        1,
        "no promotion policy named 'example-policy'",
    )
    assert "example-policy" not in succeeded(hoist(server, folder, "get", "policies"))


def test_boolean_flags_take_true_and_false_in_either_form(server: LiveServer, folder: Path) -> None:
    succeeded(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=flags-policy",
            "--allowRequestFromApprove",
            "TRUE",
            "--allowApproverFromDeploy=true",
        )
    )
    shown = json.loads(
        succeeded(hoist(server, folder, "get", "policy", "flags-policy", "-o", "json"))
    )
    assert (
        shown["allowRequestFromApprove"],
        shown["allowImageBuilderFromApprove"],
        shown["allowApproverFromDeploy"],
    ) == (True, False, True)


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--approverCount=9"], 1, ["approverCount must be between 0 and 6 (got 9)"]),
        (["--approverCount=many"], 2, ["--approverCount must be a whole number (got 'many')"]),
        (
            ["--allowRequestFromApprove=maybe"],
            2,
            ["--allowRequestFromApprove must be true or false (got 'maybe')"],
        ),
        (
            ["--passCondition=imageTag == 'v1'"],
            1,
            ["passCondition", "unknown variable 'imageTag'", "INVALID_CONDITION"],
        ),
        (["--failCondition=containerImageTag =="], 1, ["failCondition", "line 1, column"]),
    ],
)
def test_create_refusals(
    server: LiveServer, folder: Path, args: list[str], status: int, says: list[str]
) -> None:
    failed(
        hoist(server, folder, "create", "imagePromotionPolicy", "--name=refused-policy", *args),
        status,
        *says,
    )
    failed(hoist(server, folder, "get", "policy", "refused-policy"), 1, "no promotion policy")


def test_create_with_a_manifest_that_fails_keeps_nothing(server: LiveServer, folder: Path) -> None:
    bad = manifest(folder, "bad.yaml", "undone-policy", ("app1", "env-demo"), ("app2", "prod"))
    failed(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=undone-policy",
            f"--applyPath={bad}",
        ),
        1,
        "app2 has no CD pipeline in 'prod'",
        "applicationEnvironments[1].envName",
        "policy undone-policy was not kept",
    )
    failed(hoist(server, folder, "get", "policy", "undone-policy"), 1, "no promotion policy")
    # Fixed, the very same command works: nothing was left behind to conflict with.
    fixed = manifest(folder, "bad.yaml", "undone-policy", ("app1", "env-demo"))
    assert "applied undone-policy to app1/env-demo" in succeeded(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=undone-policy",
            f"--applyPath={fixed}",
        )
    )


def test_create_refuses_a_manifest_of_another_policy_before_creating(
    server: LiveServer, folder: Path
) -> None:
    path = manifest(folder, "m.yaml", "someone-else", ("app1", "env-demo"))
    failed(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=mine-policy",
            f"--applyPath={path}",
        ),
        2,
        "applies policy 'someone-else', not 'mine-policy'",
    )
    failed(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=mine-policy",
            "--applyPath=missing.yaml",
        ),
        2,
        "manifest file 'missing.yaml' does not exist",
    )
    failed(hoist(server, folder, "get", "policy", "mine-policy"), 1, "no promotion policy")


def test_unknown_policies(server: LiveServer, folder: Path) -> None:
    failed(
        hoist(server, folder, "get", "policy", "ghost-policy"),
        1,
        "no promotion policy named 'ghost-policy'",
    )
    failed(
        hoist(server, folder, "delete", "policy", "ghost-policy"),
        1,
        "no promotion policy named 'ghost-policy'",
        "NOT_FOUND",
    )
    path = manifest(folder, "ghost.yaml", "ghost-policy", ("app1", "env-demo"))
    failed(
        hoist(server, folder, "apply", "policy", "-p", str(path)),
        1,
        "no promotion policy named 'ghost-policy'",
        "spec.payload.applyToPolicyName",
    )


def test_apply_reports_manifest_problems(server: LiveServer, folder: Path) -> None:
    broken = folder / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: artifactPromotionPolicy\nspec: [payload\n")
    failed(
        hoist(server, folder, "apply", "policy", f"-p={broken.name}"),
        1,
        "YAML syntax error at line 4",
        "INVALID_MANIFEST",
    )
    wrong_kind = folder / "kind.yaml"
    wrong_kind.write_text(
        MANIFEST.format(pairs="      - {appName: app1, envName: env-demo}", policy="x").replace(
            "artifactPromotionPolicy", "Pod"
        )
    )
    failed(
        hoist(server, folder, "apply", "policy", "-p", str(wrong_kind)),
        1,
        "kind must be artifactPromotionPolicy",
        "line 2",
    )
    deep = folder / "deep.yaml"
    deep.write_text("[" * 3000)
    failed(
        hoist(server, folder, "apply", "policy", "--path", str(deep)),
        1,
        "nested more than 32 levels",
    )
    failed(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=deep-policy",
            f"--applyPath={deep}",
        ),
        1,
        "nested more than 32 levels",
        "nothing was created",
    )
    failed(
        hoist(server, folder, "apply", "policy", "-p=nowhere.yaml"),
        2,
        "manifest file 'nowhere.yaml' does not exist",
    )
    failed(
        hoist(server, folder, "apply", "policy", "-p", str(folder)), 2, "cannot read manifest file"
    )


def test_authentication_and_authorisation_failures(server: LiveServer, folder: Path) -> None:
    for args in (
        ["get", "policies"],
        ["delete", "policy", "any-policy"],
        ["create", "imagePromotionPolicy", "--name=any-policy"],
    ):
        failed(
            hoist(server, folder, *args, HOIST_TOKEN="hoist_not-a-real-token"),
            3,
            "(UNAUTHENTICATED)",
            "check HOIST_TOKEN or --token",
        )
    failed(
        hoist(server, folder, "get", "policies", HOIST_TOKEN=""),
        3,
        "(UNAUTHENTICATED)",
        "no token given",
    )
    dev_token = graphql(
        server,
        """mutation { createApiToken(name: "cli", email: "dev@example.com")
                                    { token errors { message } } }""",
    )["createApiToken"]["token"]
    failed(hoist(server, folder, "get", "policies", "--token", dev_token), 3, "(FORBIDDEN)")


def test_unreachable_server_is_one_line(server: LiveServer, folder: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for args in (
        ["get", "policies"],
        ["get", "policy", "x-policy"],
        ["delete", "policy", "x-policy"],
    ):
        stderr = failed(
            hoist(server, folder, *args, HOIST_URL=closed),
            4,
            f"cannot reach the Hoist server at {closed}",
        )
        assert len(stderr.splitlines()) == 1
    # --url wins over HOIST_URL.
    failed(hoist(server, folder, "get", "policies", "--url", closed), 4, closed)
    # (Whether other tests made policies yet does not matter: the server answered.)
    assert succeeded(
        hoist(server, folder, "get", "policies", "--url", server.url, HOIST_URL=closed)
    ).startswith(("NAME", "no promotion policies"))


def test_short_option_with_equals_is_split() -> None:
    assert _split_short_equals(["apply", "policy", "-p=a=b.yaml", "--path=x", "-p", "y"]) == [
        "apply",
        "policy",
        "-p",
        "a=b.yaml",
        "--path=x",
        "-p",
        "y",
    ]


def created_policies(server: LiveServer) -> list[str]:
    """The policies the audit log says were ever created (deleted ones too)."""
    events = graphql(
        server,
        """{ auditLog(action: "policy.created", first: 100)
                                 { edges { node { data } } } }""",
    )["auditLog"]["edges"]
    return [e["node"]["data"] for e in events]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "apiVersion: v1\nkind: artifactPromotionPolicy\nspec: [payload\n",
            "YAML syntax error at line 4",
        ),
        (
            MANIFEST.format(
                pairs="      - appName: app1\n          envName: env-demo",
                policy="readfirst-policy",
            ),
            "check the indentation of line 7 and the line above (line 6)",
        ),
        (
            MANIFEST.format(pairs="      - appName: app1", policy="readfirst-policy"),
            "missing field spec.payload.applicationEnvironments[0].envName (line 6)",
        ),
    ],
)
def test_create_reads_and_checks_the_manifest_before_creating(
    server: LiveServer, folder: Path, text: str, says: str
) -> None:
    """Issue 12 item 11: a bad manifest used to create the policy and delete it again."""
    path = folder / "bad.yaml"
    path.write_text(text)
    failed(
        hoist(
            server,
            folder,
            "create",
            "imagePromotionPolicy",
            "--name=readfirst-policy",
            f"--applyPath={path}",
        ),
        1,
        says,
        "INVALID_MANIFEST",
        "nothing was created",
    )
    failed(hoist(server, folder, "get", "policy", "readfirst-policy"), 1, "no promotion policy")
    # Not created and deleted again: never created at all.
    assert not [e for e in created_policies(server) if "readfirst-policy" in e]
