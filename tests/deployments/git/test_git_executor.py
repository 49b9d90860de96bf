"""The git executor against real repositories on disk (issue 18's "Done when"): a bare
repository as the remote, seeded with a kustomization, Helm values and a manifest."""

from __future__ import annotations

import pytest

from app.catalog.git_target import GitEdit
from app.catalog.models import StageRun
from app.ids import global_id
from app.settings import Settings
from tests.conftest import People
from tests.deployments.git.conftest import FILES, TARGETS, deploy_promoted, gitops_world, target_for
from tests.support.git_remote import Remote
from tests.support.graphql import GraphQLClient

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
