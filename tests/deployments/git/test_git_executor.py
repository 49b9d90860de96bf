"""The git executor against real repositories on disk (issue 18's "Done when"): a bare
repository as the remote, seeded with a kustomization, Helm values and a manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.accounts.access import SYSTEM
from app.catalog.git_target import GitEdit
from app.catalog.models import Stage, StageRun, StageStatus
from app.catalog.service import record_stage_result
from app.db import unit_of_work
from app.deployments.git import run as git_run
from app.deployments.models import Deployment
from app.ids import global_id
from app.settings import Settings
from tests.conftest import People
from tests.deployments.conftest import deploy
from tests.deployments.git.conftest import (
    FILES,
    TARGETS,
    deploy_promoted,
    gitops_world,
    promote_tag,
    target_for,
)
from tests.deployments.git.samples import VALUES
from tests.promotions.world import drain
from tests.support.git_remote import Remote, commit_in
from tests.support.graphql import GraphQLClient
from tests.support.ids import row

EXPECTED_LINES = {
    GitEdit.KUSTOMIZE: [
        '-      newTag: "0.9"    # the tag in production',
        '+      newTag: "1.0"    # the tag in production',
    ],
    GitEdit.HELM_VALUES: ["-  tag: '0.9'  # Hoist sets this", "+  tag: '1.0'  # Hoist sets this"],
    GitEdit.MANIFEST: [
        "-          image: registry.example.com/shop:0.9   # the app",
        "+          image: registry.example.com/shop:1.0   # the app",
        '-            image: "registry.example.com/shop:0.9"',
        '+            image: "registry.example.com/shop:1.0"',
    ],
}


HISTORY = """{ deploymentHistory(application: "shop", environment: "prod", first: 5) {
  edges { node { commit { sha repository url } } } } }"""


@pytest.mark.parametrize("edit", list(GitEdit))
async def test_a_promoted_image_is_one_commit_changing_only_its_line(
    gql: GraphQLClient,
    people: People,
    admin: str,
    remote: Remote,
    git_settings: Settings,
    edit: GitEdit,
) -> None:
    world = await gitops_world(gql, people, admin, target_for(str(remote.path), edit), approvals=1)
    before = remote.count()
    deployment = await deploy_promoted(world, "1.0", approvals=1)
    assert deployment.status == "SUCCEEDED", deployment.error
    assert remote.count() == before + 1, "exactly one commit"
    assert deployment.commit_sha == remote.head()
    assert deployment.commit_repository == str(remote.path)
    assert remote.changed_lines() == EXPECTED_LINES[edit]
    patch = remote.last_patch()
    path = TARGETS[edit]["path"]
    assert f"diff --git a/{path} b/{path}" in patch and patch.count("diff --git") == 1
    assert patch.startswith(
        "Hoist Bot <hoist@example.com>\nDeploy registry.example.com/shop:1.0 to shop/prod"
    )
    assert "approved by approver@example.com" in patch
    assert (
        f"Hoist-Request: {global_id('PromotionRequest', deployment.promotion_request_id or 0)}"
        in patch
    )
    assert f"Hoist-Deployment: {global_id('Deployment', deployment.id)}" in patch
    for other, text in FILES.items():
        if other != path:
            assert remote.show(other) == text
    [run] = await StageRun.filter(deployment_id=deployment.id)
    assert (run.stage, run.status) == ("DEPLOY", "SUCCEEDED")
    # The history shows the commit (a local path: no web link).
    history = await gql(HISTORY, token=world.tokens["dev"])
    [node] = [e["node"] for e in history["deploymentHistory"]["edges"]]
    assert node["commit"] == {"sha": remote.head(), "repository": str(remote.path), "url": None}


async def test_the_tag_already_there_makes_no_commit_and_records_the_head(
    gql: GraphQLClient, people: People, admin: str, remote: Remote, git_settings: Settings
) -> None:
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)))
    count, head = remote.count(), remote.head()
    deployment = await deploy_promoted(world, "0.9")  # the tag the kustomization holds
    assert deployment.status == "SUCCEEDED", deployment.error
    assert remote.count() == count, "no empty commit"
    assert deployment.commit_sha == head


async def test_a_job_run_again_after_its_push_makes_no_second_commit(
    gql: GraphQLClient, people: People, admin: str, remote: Remote, git_settings: Settings
) -> None:
    """A worker killed after the push, before its database commit: the outbox runs the job
    again, which finds the image written and only records the commit."""
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)))
    image, _ = await promote_tag(world, "1.0")
    result = await deploy(world, world.tokens["dev"], image)
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    target = target_for(str(remote.path))
    pushed = await git_run.push(deployment, target, git_settings)  # the killed run's push
    assert pushed.committed and remote.count() == 2
    await drain()  # the job, run again
    await deployment.refresh_from_db()
    assert deployment.status == "SUCCEEDED" and deployment.commit_sha == pushed.sha
    assert remote.count() == 2, "one commit in all"


async def test_a_push_a_hook_refuses_fails_with_the_hooks_message(
    gql: GraphQLClient, people: People, admin: str, remote: Remote, git_settings: Settings
) -> None:
    remote.hook("pre-receive", 'echo "main is frozen until the release review" >&2\nexit 1\n')
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)))
    head = remote.head()
    deployment = await deploy_promoted(world, "1.0")
    assert deployment.status == "FAILED"
    assert deployment.error is not None
    assert "main is frozen until the release review" in deployment.error
    assert "refused" in deployment.error
    assert remote.head() == head and deployment.commit_sha is None
    assert not await StageRun.filter(deployment_id=deployment.id).exists()


async def test_a_push_from_another_clone_in_between_is_retried_and_both_survive(
    gql: GraphQLClient,
    people: People,
    admin: str,
    remote: Remote,
    git_settings: Settings,
    tmp_path: Path,
) -> None:
    """Another clone pushes while Hoist's push is under way (from the remote's pre-receive
    hook, at Hoist's first push: after Hoist fetched and committed, before its push lands)."""
    other = remote.clone(tmp_path / "other")
    commit_in(other, "deploy/values.yaml", VALUES + "# scaled by the on-call\n", "Scale up")
    remote.hook(
        "pre-receive",
        f"""if [ ! -e "{tmp_path}/raced" ]; then
  touch "{tmp_path}/raced"
  env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES \\
      -u GIT_DIR git -C "{other}" push --quiet origin HEAD:main >&2
fi
""",
    )
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)))
    deployment = await deploy_promoted(world, "1.0")
    assert (tmp_path / "raced").exists(), "the other push happened"
    assert deployment.status == "SUCCEEDED", deployment.error
    assert remote.count() == 3, "seed, the other clone's commit, Hoist's"
    assert remote.git("log", "-1", "--format=%s", "main~1").strip() == "Scale up"
    assert remote.show("deploy/values.yaml").endswith("# scaled by the on-call\n")
    assert 'newTag: "1.0"' in remote.show("deploy/kustomization.yaml")
    assert deployment.commit_sha == remote.head()


async def test_a_push_that_keeps_losing_the_race_fails_after_the_attempts(
    gql: GraphQLClient,
    people: People,
    admin: str,
    remote: Remote,
    git_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(git_settings, "git_push_attempts", 2)
    other = remote.clone(tmp_path / "other")
    # Before every push of Hoist's, someone else's lands first.
    remote.hook(
        "pre-receive",
        f"""cd "{other}" && unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY \\
    GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_DIR
export GIT_AUTHOR_NAME=else GIT_AUTHOR_EMAIL=else@example.com
export GIT_COMMITTER_NAME=else GIT_COMMITTER_EMAIL=else@example.com
if [ -z "$RACING" ]; then
  git pull --quiet --rebase origin main >&2
  echo "# $(date +%s%N)" >> deploy/values.yaml
  git commit --quiet -am "Someone else" >&2
  RACING=1 git push --quiet origin HEAD:main >&2
fi
""",
    )
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)))
    deployment = await deploy_promoted(world, "1.0")
    assert deployment.status == "FAILED"
    assert deployment.error is not None and "failed 2 times" in deployment.error
    assert 'newTag: "0.9"' in remote.show("deploy/kustomization.yaml")


async def test_stages_after_deploy_are_the_cd_systems_to_report(
    gql: GraphQLClient, people: People, admin: str, remote: Remote, git_settings: Settings
) -> None:
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)), post_stage=True)
    deployment = await deploy_promoted(world, "1.0")
    assert deployment.status == "RUNNING", "POST is Argo CD's or Flux's to report"
    assert deployment.commit_sha == remote.head()
    async with unit_of_work():
        await record_stage_result(
            SYSTEM, deployment.image_id, "prod", Stage.POST, StageStatus.SUCCEEDED
        )
    await deployment.refresh_from_db()
    assert deployment.status == "SUCCEEDED"


async def test_the_git_target_wins_over_the_configured_executor(
    gql: GraphQLClient,
    people: People,
    admin: str,
    remote: Remote,
    git_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(git_settings, "deploy_executor", "webhook")  # no URL: it would fail
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)))
    deployment = await deploy_promoted(world, "1.0")
    assert deployment.status == "SUCCEEDED", deployment.error
    assert remote.count() == 2
