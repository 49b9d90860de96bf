"""The CLI side of issue 11 items 4 and 7: a CI identity registering images for the people
who triggered the builds, and `update imagePromotionPolicy --ifVersion`."""

from __future__ import annotations

from pathlib import Path

from app.ids import global_id
from tests.cli.runner import as_json, failed, hoist, succeeded
from tests.support.live_server import LiveServer

WORKFLOW = """\
apiVersion: v1
kind: workflow
spec:
  application: ci-id-app
  name: main
  ciPipeline: ci-id-ci
  cdPipelines:
    - environment: ci-id-dev
"""


def test_a_ci_identity_names_the_builder(live_server: LiveServer, tmp_path: Path) -> None:
    run = lambda *args, **env: hoist(live_server, tmp_path, *args, **env)  # noqa: E731
    succeeded(run("create", "application", "--name=ci-id-app"))
    succeeded(run("create", "environment", "--name=ci-id-dev"))
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    succeeded(run("apply", "-f", str(tmp_path / "workflow.yaml")))
    assert succeeded(
        run("create", "user", "--email=ci-bot@example.com", "--name=CI", "--ciIdentity=true")
    ) == (f"created user ci-bot@example.com (CI identity) (id {global_id('User', 2)})\n")
    succeeded(run("create", "user", "--email=dev@example.com", "--name=Dev"))
    for email in ("ci-bot@example.com", "dev@example.com"):
        succeeded(
            run(
                "grant",
                "role",
                f"--email={email}",
                "--role=BUILD_DEPLOY",
                "--application=ci-id-app",
            )
        )
    ci_token = (
        succeeded(run("create", "token", "--name=ci", "--email=ci-bot@example.com"))
        .strip()
        .splitlines()[-1]
    )
    dev_token = (
        succeeded(run("create", "token", "--name=laptop", "--email=dev@example.com"))
        .strip()
        .splitlines()[-1]
    )
    register = (
        "register",
        "image",
        "--application=ci-id-app",
        "--workflow=main",
        "--image=registry.example.com/ci-id-app:1.0",
        "--builtBy=dev@example.com",
        "-o",
        "json",
    )

    image = as_json(run(*register, HOIST_TOKEN=ci_token))
    assert (image["builtBy"], image["registeredBy"]) == (
        {"email": "dev@example.com"},
        {"email": "ci-bot@example.com"},
    )
    # A person may not register an image in someone else's name: a right they lack, so
    # the exit status of "not allowed" (3), although the server answers in the payload.
    failed(
        run(*register[:-2], "--builtBy=ci-bot@example.com", HOIST_TOKEN=dev_token),
        3,
        "FORBIDDEN",
        "field builtBy",
    )
    # Creating a workflow is for super-admins: refused in the payload, exit status 3.
    (tmp_path / "nightly.yaml").write_text(WORKFLOW.replace("name: main", "name: nightly"))
    nightly = run("apply", "-f", str(tmp_path / "nightly.yaml"), HOIST_TOKEN=dev_token)
    failed(nightly, 3, "FORBIDDEN")


def test_update_if_version(live_server: LiveServer, tmp_path: Path) -> None:
    run = lambda *args, **env: hoist(live_server, tmp_path, *args, **env)  # noqa: E731
    succeeded(run("create", "imagePromotionPolicy", "--name=ci-id-policy"))
    update = ("update", "imagePromotionPolicy", "--name=ci-id-policy", "--approverCount=2")
    assert succeeded(run(*update, "--ifVersion=1")) == ("updated policy ci-id-policy (version 2)\n")
    failed(
        run(*update, "--ifVersion=1"), 1, "is at version 2, not 1", "CONFLICT", "field ifVersion"
    )
    failed(run(*update, "--ifVersion=two"), 2, "--ifVersion must be a whole number")
    assert as_json(run(*update, "-o", "json"))["version"] == 3
