"""Every client command an administrator scripts, against one real `hoist serve`.

Commands run in-process (tests/cli/runner.py) for speed; test_client.py runs the console
script itself. Each test builds its own part of the catalog, with names of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import limits
from app.ids import global_id, row_id
from tests.cli.runner import as_json, failed, hoist, succeeded
from tests.support.live_server import LiveServer
from tests.support.services import free_port
from tests.support.waiting import eventually

WORKFLOW = """\
apiVersion: v1
kind: workflow
spec:
  application: {app}
  name: main
  ciPipeline: {app}-ci
  cdPipelines:
    - environment: {staging}
      trigger: AUTOMATIC
    - environment: {prod}
      parentEnvironment: {staging}
      deploymentApprovalCount: 1
"""

POLICY_MANIFEST = """\
apiVersion: v1
kind: artifactPromotionPolicy
spec:
  payload:
    applicationEnvironments:
      - appName: {app}
        envName: {env}
    applyToPolicyName: {policy}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_users_roles_and_tokens(live_server: LiveServer, folder: Path) -> None:
    run = lambda *args, **env: hoist(live_server, folder, *args, **env)  # noqa: E731
    succeeded(run("create", "application", "--name=people-app"))
    assert succeeded(run("create", "user", "--email", "Ann@Example.com", "--name=Ann")) == (
        f"created user ann@example.com (id {global_id('User', 2)})\n"
    )
    boss = as_json(
        run(
            "create",
            "user",
            "--email=boss@example.com",
            "--name",
            "Boss",
            "--superAdmin=true",
            "-o",
            "json",
        )
    )
    assert (boss["email"], boss["superAdmin"], boss["ciIdentity"], boss["roles"]) == (
        "boss@example.com",
        True,
        False,
        [],
    )
    assert succeeded(
        run("create", "user", "--email=ci@example.com", "--name=CI", "--ciIdentity", "true")
    ) == (f"created user ci@example.com (CI identity) (id {global_id('User', 4)})\n")
    failed(
        run("create", "user", "--email=ann@example.com", "--name=Ann"),
        1,
        "a user with email 'ann@example.com' already exists",
        "CONFLICT",
        "field email",
    )
    failed(
        run("create", "user", "--email=ann@example.com", "--name=Ann", "--superAdmin=yes"),
        2,
        "--superAdmin must be true or false",
    )

    assert succeeded(
        run(
            "grant",
            "role",
            "--email=ann@example.com",
            "--role=BUILD_DEPLOY",
            "--application",
            "people-app",
        )
    ) == ("granted BUILD_DEPLOY on people-app/* to ann@example.com\n")
    granted = as_json(
        run(
            "grant",
            "role",
            "--email=ann@example.com",
            "--role",
            "artifact_promoter",
            "--application=people-app",
            "--environment=*",
            "-o",
            "json",
        )
    )
    assert granted == {
        "email": "ann@example.com",
        "role": "ARTIFACT_PROMOTER",
        "application": "people-app",
        "environment": "*",
    }
    failed(
        run(
            "grant", "role", "--email=ann@example.com", "--role=VIEWER", "--application=no-such-app"
        ),
        1,
        "no application named 'no-such-app'",
        "field application",
    )
    failed(run("grant", "role", "--email=ann@example.com", "--role=OWNER"), 2, "OWNER")

    users = {u["email"]: u for u in as_json(run("get", "users", "-o", "json"))}
    assert {"admin@example.com", "ann@example.com", "boss@example.com"} <= set(users)
    assert sorted(r["role"] for r in users["ann@example.com"]["roles"]) == [
        "ARTIFACT_PROMOTER",
        "BUILD_DEPLOY",
    ]
    table = succeeded(run("get", "users")).splitlines()
    assert table[0].split() == ["ID", "EMAIL", "NAME", "SUPER-ADMIN", "CI", "ROLES"]
    [ann] = [line for line in table if "ann@example.com" in line]
    assert "BUILD_DEPLOY@people-app/*" in ann and "ARTIFACT_PROMOTER@people-app/*" in ann

    assert succeeded(
        run(
            "revoke",
            "role",
            "--email=ann@example.com",
            "--role=ARTIFACT_PROMOTER",
            "--application=people-app",
        )
    ) == ("revoked ARTIFACT_PROMOTER on people-app/* from ann@example.com\n")
    assert as_json(
        run(
            "revoke",
            "role",
            "--email=ann@example.com",
            "--role=BUILD_DEPLOY",
            "--application=people-app",
            "-o",
            "json",
        )
    ) == {
        "deleted": True,
        "email": "ann@example.com",
        "role": "BUILD_DEPLOY",
        "application": "people-app",
        "environment": "*",
    }
    failed(
        run(
            "revoke",
            "role",
            "--email=ann@example.com",
            "--role=ARTIFACT_PROMOTER",
            "--application=people-app",
        ),
        1,
        "ann@example.com does not hold ARTIFACT_PROMOTER on people-app/*",
        "NOT_FOUND",
    )

    # A token for Ann, made by the admin: the secret is the last line, and it works.
    out = succeeded(run("create", "token", "--name=laptop", "--email=ann@example.com"))
    secret = last_line(out)
    assert secret.startswith("hoist_") and "shown once" in out
    mine = as_json(run("get", "tokens", "-o", "json", HOIST_TOKEN=secret))
    assert [(t["name"], t["revoked"], t["revokedAt"]) for t in mine] == [("laptop", False, None)]
    assert set(mine[0]) == {"id", "name", "createdAt", "expiresAt", "revoked", "revokedAt"}
    second = as_json(
        run(
            "create",
            "token",
            "--name",
            "ci",
            "--expiresAt=2999-01-01T00:00:00Z",
            "-o",
            "json",
            HOIST_TOKEN=secret,
        )
    )
    assert second["token"].startswith("hoist_") and second["expiresAt"].startswith("2999-01-01")
    listed = succeeded(run("get", "tokens", HOIST_TOKEN=secret))
    assert secret not in listed and second["token"] not in listed  # never a secret
    assert "laptop" in listed and "ci" in listed
    failed(
        run("create", "token", "--name=x", "--expiresAt=2001-01-01T00:00:00Z"),
        1,
        "expiresAt must be in the future",
    )

    # Ann revokes her first token with the second; the first is refused from then on.
    assert succeeded(run("revoke", "token", mine[0]["id"], HOIST_TOKEN=second["token"])) == (
        f"revoked token {mine[0]['id']}\n"
    )
    after = as_json(run("get", "tokens", "-o", "json", HOIST_TOKEN=second["token"]))
    assert {t["name"]: t["revoked"] for t in after} == {"laptop": True, "ci": False}
    failed(run("get", "tokens", HOIST_TOKEN=secret), 3, "UNAUTHENTICATED")
    # Someone else's token is unknown to her; only super-admins manage users.
    admin_tokens = as_json(run("get", "tokens", "-o", "json"))
    failed(
        run("revoke", "token", admin_tokens[0]["id"], HOIST_TOKEN=second["token"]),
        1,
        "no token with id",
        "NOT_FOUND",
    )
    failed(run("revoke", "token", "not-a-number"), 1, "id")
    failed(run("get", "users", HOIST_TOKEN=second["token"]), 3, "(FORBIDDEN)")
    failed(
        run("create", "user", "--email=x@example.com", "--name=X", HOIST_TOKEN=second["token"]),
        3,
        "FORBIDDEN",
    )


def test_applications_and_environments(live_server: LiveServer, folder: Path) -> None:
    run = lambda *args, **env: hoist(live_server, folder, *args, **env)  # noqa: E731
    assert succeeded(run("create", "application", "--name", "cat-app")) == (
        "created application cat-app\n"
    )
    created = as_json(
        run("create", "environment", "--name=cat-prod", "--production=true", "-o", "json")
    )
    assert (created["name"], created["production"]) == ("cat-prod", True)
    assert as_json(run("create", "application", "--name=cat-two", "-o", "json"))["name"] == (
        "cat-two"
    )
    assert succeeded(run("create", "environment", "--name=cat-dev")) == (
        "created environment cat-dev\n"
    )
    failed(run("create", "application", "--name=cat-app"), 1, "already exists", "CONFLICT")
    failed(
        run("create", "environment", "--name=Bad_Name"),
        1,
        "name may contain only lowercase letters",
        "field name",
    )

    apps = as_json(run("get", "applications", "-o", "json"))
    assert {"id", "name", "workflows"} <= set(apps[0])
    assert "cat-app" in {a["name"] for a in apps}
    envs = {e["name"]: e["production"] for e in as_json(run("get", "environments", "-o=json"))}
    assert (envs["cat-prod"], envs["cat-dev"]) == (True, False)
    assert any(
        line.split() == ["cat-prod", "true"]
        for line in succeeded(run("get", "environments")).splitlines()
    )
    assert succeeded(run("get", "workflows", "--application=cat-app")) == (
        "cat-app has no workflows\n"
    )
    failed(run("get", "workflows", "--application=ghost-app"), 1, "no application named")


def test_workflow_manifest(live_server: LiveServer, folder: Path) -> None:
    run = lambda *args, **env: hoist(live_server, folder, *args, **env)  # noqa: E731
    for args in (
        ["application", "--name=wf-app"],
        ["environment", "--name=wf-staging"],
        ["environment", "--name=wf-prod"],
    ):
        succeeded(run("create", *args))
    path = folder / "workflow.yaml"
    good = WORKFLOW.format(app="wf-app", staging="wf-staging", prod="wf-prod")

    # All or nothing: every bad field is listed with its line, and nothing is created.
    path.write_text(
        good.replace("environment: wf-prod", "environment: wf-qa").replace(
            "deploymentApprovalCount: 1", "deploymentApprovalCount: 9"
        )
    )
    stderr = failed(run("apply", "-f", str(path)), 1)
    assert (
        "no environment named 'wf-qa' [NOT_FOUND, field spec.cdPipelines[1].environment, "
        "line 10]" in stderr
    )
    assert "field spec.cdPipelines[1].deploymentApprovalCount, line 12]" in stderr
    assert succeeded(run("get", "workflows", "--application=wf-app")) == (
        "wf-app has no workflows\n"
    )

    # Read before sending: the shape is checked here, with lines, like the policy manifest.
    for text, says in [
        (
            good.replace("      trigger: AUTOMATIC", "      triger: AUTOMATIC"),
            "unknown field 'triger' in spec.cdPipelines[0]",
        ),
        (
            good.replace("deploymentApprovalCount: 1", "deploymentApprovalCount: many"),
            "spec.cdPipelines[1].deploymentApprovalCount must be a whole number (line 12)",
        ),
        (
            good.replace("trigger: AUTOMATIC", "trigger: SOMETIMES"),
            "spec.cdPipelines[0].trigger must be AUTOMATIC or MANUAL (line 9)",
        ),
        (good.replace("  ciPipeline: wf-app-ci\n", ""), "missing field spec.ciPipeline (line 4)"),
        (
            good.replace("      parentEnvironment", "        parentEnvironment"),
            "check the indentation of line 11 and the line above (line 10)",
        ),
        (good.replace("  name: main", "\tname: main"), "replace the tab on line 5 with spaces"),
        (good.replace("kind: workflow", "kind: pod"), "unknown kind 'pod'"),
    ]:
        path.write_text(text)
        failed(run("apply", "-f", str(path)), 1, says)
    assert succeeded(run("get", "workflows", "--application=wf-app")) == (
        "wf-app has no workflows\n"
    )
    failed(run("apply", "-f", "missing.yaml"), 2, "manifest file 'missing.yaml' does not exist")
    failed(run("apply", "policy", "-p", str(path), "-f", str(path)), 2)

    # -o json of a created workflow, in another application of the same shape.
    succeeded(run("create", "application", "--name=wf-json"))
    for env in ("wf-json-a", "wf-json-b"):
        succeeded(run("create", "environment", f"--name={env}"))
    path.write_text(WORKFLOW.format(app="wf-json", staging="wf-json-a", prod="wf-json-b"))
    created = as_json(run("apply", "-f", str(path), "-o", "json"))
    assert (
        created["application"],
        created["name"],
        [p["environment"]["name"] for p in created["cdPipelines"]],
    ) == ("wf-json", "main", ["wf-json-a", "wf-json-b"])
    path.write_text(good)
    assert succeeded(run("apply", f"-f={path}")) == (
        "created workflow wf-app/main with CD pipelines wf-staging, wf-prod\n"
    )
    [workflow] = as_json(run("get", "workflows", "--application", "wf-app", "-o", "json"))
    assert (workflow["name"], workflow["ciPipeline"]) == ("main", "wf-app-ci")
    assert [
        (
            p["environment"]["name"],
            (p["parentEnvironment"] or {}).get("name"),
            p["trigger"],
            p["deploymentApprovalCount"],
        )
        for p in workflow["cdPipelines"]
    ] == [("wf-staging", None, "AUTOMATIC", 0), ("wf-prod", "wf-staging", "MANUAL", 1)]
    # Applying it again is refused, not an update: the line is the workflow's name.
    failed(
        run("apply", "-f", str(path)),
        1,
        "wf-app already has a workflow named 'main' [CONFLICT, field spec.name, line 5]",
    )

    # A pipeline's Git target: set, shown, refused by field, taken away.
    target = ("--application=wf-app", "--environment=wf-prod", "--path=prod/values.yaml")
    assert succeeded(
        run(
            "update",
            "gitTarget",
            *target,
            "--repository=/srv/deploy.git",
            "--edit=helm-values",
            "--key=image.tag",
        )
    ) == (
        "wf-app/wf-prod deploys through git /srv/deploy.git@main:prod/values.yaml "
        "(HELM_VALUES image.tag)\n"
    )
    assert "git /srv/deploy.git@main:prod/values.yaml (HELM_VALUES image.tag)" in succeeded(
        run("get", "workflows", "--application=wf-app")
    )
    failed(
        run(
            "update",
            "gitTarget",
            *target,
            "--repository=https://u:pw@git.example.com/d.git",
            "--edit=HELM_VALUES",
            "--key=image.tag",
        ),
        1,
        "must not carry credentials",
    )
    failed(
        run("update", "gitTarget", *target[:2], "--edit=MANIFEST"), 2, "give --repository, --path"
    )
    assert (
        succeeded(run("update", "gitTarget", *target[:2], "--clear=true"))
        == "wf-app/wf-prod deploys with the installation's executor\n"
    )
    # A policy manifest goes through `apply -f` too.
    succeeded(run("create", "imagePromotionPolicy", "--name=wf-policy"))
    path.write_text(POLICY_MANIFEST.format(app="wf-app", env="wf-prod", policy="wf-policy"))
    assert as_json(run("apply", "-f", str(path), "-o", "json")) == [
        {"appName": "wf-app", "envName": "wf-prod", "policy": {"name": "wf-policy"}}
    ]
    updated = as_json(
        run(
            "update",
            "imagePromotionPolicy",
            "--name=wf-policy",
            "--approverCount",
            "2",
            "-o",
            "json",
        )
    )
    assert (updated["version"], updated["approverCount"], updated["bindings"]) == (
        2,
        2,
        [{"appName": "wf-app", "envName": "wf-prod"}],
    )
    failed(
        run("update", "imagePromotionPolicy", "--name=wf-policy"),
        2,
        "name at least one field to change",
    )
    failed(
        run("update", "imagePromotionPolicy", "--name=ghost-policy", "--approverCount=1"),
        1,
        "no promotion policy named 'ghost-policy'",
    )


def test_images_and_stage_results(live_server: LiveServer, folder: Path) -> None:
    run = lambda *args, **env: hoist(live_server, folder, *args, **env)  # noqa: E731
    for args in (
        ["application", "--name=ci-app"],
        ["environment", "--name=ci-staging"],
        ["environment", "--name=ci-prod"],
    ):
        succeeded(run("create", *args))
    path = folder / "workflow.yaml"
    path.write_text(
        WORKFLOW.format(app="ci-app", staging="ci-staging", prod="ci-prod").replace(
            "      trigger: AUTOMATIC\n", "      postStage: true\n"
        )
    )
    succeeded(run("apply", "-f", str(path)))
    image = as_json(
        run(
            "register",
            "image",
            "--application=ci-app",
            "--workflow=main",
            "--image",
            "registry.example.com/shop:1.4.2",
            "--label=release",
            "--label",
            "hotfix",
            "--digest=sha256:abc",
            '--gitCommit={"repo": "https://git.example.com/shop", '
            '"branch": "main", "commitHash": "abc123"}',
            "-o",
            "json",
        )
    )
    assert (image["image"], image["tag"], image["labels"], image["builtBy"]) == (
        "registry.example.com/shop:1.4.2",
        "1.4.2",
        ["release", "hotfix"],
        {"email": "admin@example.com"},
    )
    assert image["gitCommits"][0]["commitHash"] == "abc123"
    image_id = succeeded(
        run(
            "register",
            "image",
            "--application=ci-app",
            "--workflow=main",
            "--image=registry.example.com/shop:1.4.3",
            "-o",
            "id",
        )
    ).strip()
    assert row_id(image_id, "Image") is not None and image_id != image["id"]
    failed(
        run(
            "register",
            "image",
            "--application=ci-app",
            "--workflow=main",
            "--image=shop:1",
            "--gitCommit=abc",
        ),
        2,
        "--gitCommit must be a JSON object",
    )
    failed(
        run(
            "register",
            "image",
            "--application=ci-app",
            "--workflow=nope",
            "--image=not a reference",
        ),
        1,
        "field workflow",
        "field image",
    )

    assert succeeded(
        run(
            "record",
            "stage",
            "--image",
            image_id,
            "--environment=ci-staging",
            "--stage=deploy",
            "--status=succeeded",
        )
    ) == (f"recorded DEPLOY SUCCEEDED for image {image_id} in ci-staging\n")
    stage = as_json(
        run(
            "record",
            "stage",
            f"--image={image_id}",
            "--environment=ci-staging",
            "--stage=POST",
            "--status=FAILED",
            "-o",
            "json",
        )
    )
    assert (stage["stage"], stage["status"], stage["environment"]) == (
        "POST",
        "FAILED",
        {"name": "ci-staging"},
    )
    failed(
        run(
            "record",
            "stage",
            f"--image={image_id}",
            "--environment=ci-staging",
            "--stage=PRE",
            "--status=SUCCEEDED",
        ),
        1,
        "has no PRE stage",
        "field stage",
    )
    failed(
        run(
            "record",
            "stage",
            f"--image={image_id}",
            "--environment=ci-staging",
            "--stage=PRE",
            "--status=MAYBE",
        ),
        2,
        "MAYBE",
    )


def test_the_tour_promote_approve_deploy_history(live_server: LiveServer, folder: Path) -> None:
    """admin → a second user with roles and a token → policy → promote → approve → deploy
    → history, with the CLI alone (the path the README's tour takes)."""
    admin = lambda *args: hoist(live_server, folder, *args)  # noqa: E731
    for args in (
        ["application", "--name=shop"],
        ["environment", "--name=staging"],
        ["environment", "--name=prod", "--production=true"],
    ):
        succeeded(admin("create", *args))
    # Both pipelines MANUAL: an image reaches prod only by promotion (an AUTOMATIC staging
    # would deploy it there, and prod would then take it by the normal path).
    (folder / "workflow.yaml").write_text(
        WORKFLOW.format(app="shop", staging="staging", prod="prod").replace(
            "      trigger: AUTOMATIC\n", ""
        )
    )
    succeeded(admin("apply", "-f", "workflow.yaml"))
    succeeded(admin("create", "user", "--email=dev@example.com", "--name=Dev"))
    succeeded(admin("create", "user", "--email=lead@example.com", "--name=Lead"))
    succeeded(
        admin(
            "grant", "role", "--email=dev@example.com", "--role=BUILD_DEPLOY", "--application=shop"
        )
    )
    for role in ("ARTIFACT_PROMOTER", "DEPLOYMENT_APPROVER"):
        succeeded(
            admin(
                "grant",
                "role",
                "--email=lead@example.com",
                f"--role={role}",
                "--application=shop",
                "--environment=prod",
            )
        )
    dev_token = last_line(
        succeeded(admin("create", "token", "--name=laptop", "--email=dev@example.com"))
    )
    lead_token = last_line(
        succeeded(admin("create", "token", "--name=laptop", "--email=lead@example.com"))
    )
    dev = lambda *args: hoist(live_server, folder, *args, HOIST_TOKEN=dev_token)  # noqa: E731
    lead = lambda *args: hoist(live_server, folder, *args, HOIST_TOKEN=lead_token)  # noqa: E731
    (folder / "policy.yaml").write_text(
        POLICY_MANIFEST.format(app="shop", env="prod", policy="hotfix")
    )
    succeeded(
        admin(
            "create",
            "imagePromotionPolicy",
            "--name=hotfix",
            "--approverCount=1",
            '--passCondition=containerImageTag.startsWith("1.")',
            "--applyPath=policy.yaml",
        )
    )

    image = succeeded(
        dev(
            "register",
            "image",
            "--application=shop",
            "--workflow=main",
            "--image=registry.example.com/shop:1.4.2",
            "-o",
            "id",
        )
    ).strip()
    blocked = succeeded(
        dev(
            "register",
            "image",
            "--application=shop",
            "--workflow=main",
            "--image=registry.example.com/shop:v2",
            "-o",
            "id",
        )
    ).strip()
    # One outcome per target: staging has no policy, so this refuses it, after prod is done.
    result = dev("promote", f"--image={image}", "--to=prod,staging", "--comment=hotfix")
    assert result.returncode == 1, result
    request = result.stdout.split("(request ")[1].split(")")[0]
    assert result.stdout.startswith(f"prod: AWAITING_APPROVAL (request {request})")
    assert "error: staging:" in result.stderr and "[POLICY_NOT_CONFIGURED]" in result.stderr
    failed(dev("promote", f"--image={blocked}", "--to=prod"), 1, "[BLOCKED_BY_POLICY]")
    again = dev("promote", f"--image={image}", "--to", "prod", "-o", "json")
    assert again.returncode == 1
    assert [r["outcome"] for r in json.loads(again.stdout)] == ["ALREADY_REQUESTED"]

    pending = as_json(lead("get", "requests", "--pending", "-o", "json"))
    assert [(r["id"], r["status"], r["canApprove"], r["source"]["type"]) for r in pending] == [
        (request, "AWAITING_APPROVAL", True, "CI")
    ]
    assert request in succeeded(lead("get", "requests", "--pending"))
    assert as_json(dev("get", "requests", "--pending", "-o", "json")) == []  # not an approver
    failed(
        dev("approve", request),
        1,
        f"error: request {request}: you need ARTIFACT_PROMOTER",
        "[FORBIDDEN]",
    )
    approved = as_json(lead("approve", request, "--comment=go", "-o", "json"))
    assert [r["outcome"] for r in approved] == ["PROMOTING"]
    # The worker promotes it after the approval answered: `hoist wait` waits for that.
    assert succeeded(dev("wait", "request", request, "--for=PROMOTED")) == (
        f"request {request}: PROMOTED\n"
    )

    # prod wants one Image Deployment Approval, from someone who did not build the image.
    failed(
        dev("deploy", "--application=shop", "--environment=prod", f"--image={image}"),
        1,
        "DEPLOYMENT_APPROVAL_REQUIRED",
    )
    assert succeeded(
        lead("approve", f"--image={image}", "--application=shop", "--environment=prod")
    ) == (f"approved image {image} for deployment to shop/prod\n")
    deployable = as_json(
        dev("get", "deployable", "--application=shop", "--environment=prod", "-o", "json")
    )
    assert {d["image"]["id"]: d["deployable"] for d in deployable}[image] is True
    deployment = as_json(
        dev("deploy", "--application=shop", "--environment=prod", f"--image={image}", "-o", "json")
    )
    assert deployment["promotedFrom"]["requestId"] == request

    history = as_json(
        dev("get", "history", "--application=shop", "--environment=prod", "-o", "json")
    )
    assert [(d["id"], d["image"]["id"], d["deployedBy"]["email"]) for d in history] == [
        (deployment["id"], image, "dev@example.com")
    ]
    assert history[0]["promotedFrom"] == {
        "sourceType": "CI",
        "sourceEnvironment": None,
        "requestId": request,
        "approvers": [{"email": "lead@example.com"}],
    }
    text = succeeded(dev("get", "history", "--application=shop"))
    assert f"from CI (request {request}; lead@example.com)" in text

    # Reject and cancel, on requests of their own.
    other = succeeded(
        dev(
            "register",
            "image",
            "--application=shop",
            "--workflow=main",
            "--image=registry.example.com/shop:1.5.0",
            "-o",
            "id",
        )
    ).strip()
    to_reject = succeeded(dev("promote", f"--image={other}", "--to=prod", "-o", "id")).strip()
    failed(lead("reject", to_reject), 2, "--reason is required")
    assert succeeded(lead("reject", to_reject, "--reason=not today")) == (
        f"request {to_reject}: REJECTED: the request is rejected\n"
    )
    failed(lead("approve", to_reject), 1, "[NOT_PENDING]")
    failed(
        dev("wait", "request", to_reject),
        1,
        f"request {to_reject} is REJECTED, it will not become PROMOTED",
    )
    to_cancel = succeeded(dev("promote", f"--image={other}", "--to=prod", "-o", "id")).strip()
    failed(
        dev("wait", "request", to_cancel, "--timeout=1"),
        1,
        f"request {to_cancel} is still AWAITING_APPROVAL after 1 s",
    )
    failed(dev("wait", "request", to_cancel, "--timeout=0"), 2, "--timeout must be 1-3600")
    failed(lead("cancel", to_cancel), 3, "only the requester or a super-admin may cancel")
    assert as_json(dev("cancel", to_cancel, "-o", "json"))["status"] == "CANCELLED"
    statuses = {
        r["id"]: r["status"]
        for r in as_json(admin("get", "requests", "--application=shop", "-o", "json"))
    }
    assert (statuses[request], statuses[to_reject], statuses[to_cancel]) == (
        "PROMOTED",
        "REJECTED",
        "CANCELLED",
    )
    failed(admin("get", "requests", "--status=DONE"), 2, "--status must be one of")


def test_exit_codes_of_the_new_commands(live_server: LiveServer, folder: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    failed(hoist(live_server, folder, "get", "users", HOIST_URL=closed), 4, "cannot reach")
    failed(
        hoist(live_server, folder, "promote", "--image=1", "--to=prod", HOIST_TOKEN=""),
        3,
        "UNAUTHENTICATED",
        "no token given",
    )
    failed(
        hoist(live_server, folder, "get", "history", "--application=x", "--first=lots"),
        2,
        "--first must be a whole number",
    )
    failed(hoist(live_server, folder, "get", "policy", "x", "-o", "yaml"), 2, "yaml")
    # promote / approve / reject read their payload's errors: refusals, not crashes.
    failed(
        hoist(live_server, folder, "promote", "--image=999999", "--to=prod"),
        1,
        "[NOT_FOUND, field imageId]",
    )
    failed(
        hoist(live_server, folder, "reject", "999999", f"--reason={'r' * (limits.REASON + 1)}"),
        1,
        "[VALIDATION, field reason]",
    )


def test_rollback_brings_back_an_image_and_history_marks_it(
    live_server: LiveServer, folder: Path
) -> None:
    """`hoist rollback` (text, json and id output), its refusal, and `get history`'s NOTE."""
    run = lambda *args: hoist(live_server, folder, *args)  # noqa: E731
    succeeded(run("create", "application", "--name=rb-shop"))
    succeeded(run("create", "environment", "--name=rb-dev"))
    (folder / "workflow.yaml").write_text(
        "apiVersion: v1\nkind: workflow\nspec:\n  application: rb-shop\n  name: main\n"
        "  ciPipeline: rb-ci\n  cdPipelines:\n    - environment: rb-dev\n"
        "      trigger: AUTOMATIC\n"
    )
    succeeded(run("apply", "-f", "workflow.yaml"))
    where = ["--application=rb-shop", "--environment=rb-dev"]

    def history() -> list[dict[str, object]]:
        return list(as_json(run("get", "history", *where, "-o", "json")))

    images = []
    for tag in ("1.0", "2.0"):
        image = succeeded(
            run(
                "register",
                "image",
                "--application=rb-shop",
                "--workflow=main",
                f"--image=registry.example.com/rb-shop:{tag}",
                "-o",
                "id",
            )
        ).strip()
        images.append(image)
        # rb-dev follows CI automatically; the embedded worker runs the deployment.
        eventually(
            lambda: (
                [d["status"] for d in history()][:1] == ["SUCCEEDED"]
                and len(history()) == len(images)
            ),
            f"the automatic deployment of {tag}",
        )
    first, second = images
    replaced = history()[0]["id"]

    failed(
        run("rollback", *where, f"--image={second}"),
        1,
        "[NOT_ROLLBACKABLE, field toImage]",
        "rb-dev now",
    )
    text = succeeded(run("rollback", *where, f"--image={first}"))
    made = history()[0]
    assert text == (
        f"deployment {made['id']}: rolling rb-shop/rb-dev back to "
        f"registry.example.com/rb-shop:1.0 (replacing deployment {replaced}, "
        "registry.example.com/rb-shop:2.0), QUEUED\n"
    )
    assert made["rollbackOf"] == {
        "id": replaced,
        "image": {"id": second, "image": "registry.example.com/rb-shop:2.0"},
    }
    eventually(lambda: history()[0]["status"] == "SUCCEEDED", "the rollback's deployment")
    listed = succeeded(run("get", "history", *where))
    assert f"rollback of {replaced}" in listed.splitlines()[1]

    back = as_json(run("rollback", *where, f"--image={second}", "-o", "json"))
    assert (back["image"]["id"], back["rollbackOf"]["id"]) == (second, made["id"])
    eventually(lambda: history()[0]["status"] == "SUCCEEDED", "the second rollback")
    assert (
        succeeded(run("rollback", *where, f"--image={first}", "-o", "id")).strip()
        == (history()[0]["id"])
    )
