"""Fixtures of the git executor's tests: one seeded bare repository per module, copied for
each test; Hoist's settings pointed at the test's folders; a world whose prod pipeline has
a Git target (set through the API's setGitTarget)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.catalog.git_target import GitEdit, GitTarget
from app.deployments.models import Deployment
from app.settings import Settings, get_settings
from tests.conftest import People
from tests.deployments.conftest import deploy, make_world
from tests.deployments.git.samples import KUSTOMIZATION, MANIFEST, VALUES
from tests.promotions.world import World, drain, request_row
from tests.support.git_remote import Remote, seed
from tests.support.graphql import GraphQLClient
from tests.support.ids import row

FILES = {
    "deploy/kustomization.yaml": KUSTOMIZATION,
    "deploy/values.yaml": VALUES,
    "deploy/manifest.yaml": MANIFEST,
}
TARGETS: dict[GitEdit, dict[str, str]] = {
    GitEdit.KUSTOMIZE: {"path": "deploy/kustomization.yaml", "image": "registry.example.com/shop"},
    GitEdit.HELM_VALUES: {"path": "deploy/values.yaml", "key": "image.tag"},
    GitEdit.MANIFEST: {"path": "deploy/manifest.yaml", "container": "shop"},
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded remote, made once per module (tests get copies)."""
    return seed(tmp_path_factory.mktemp("template") / "deploy.git", FILES)


@pytest.fixture
def remote(template: Path, tmp_path: Path) -> Remote:
    return Remote.copy_of(template, tmp_path / "remotes" / "deploy.git")


@pytest.fixture
def git_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    settings = get_settings()
    monkeypatch.setattr(settings, "git_workdir", tmp_path / "work")
    monkeypatch.setattr(settings, "git_credentials_dir", tmp_path / "secrets")
    monkeypatch.setattr(settings, "git_author", "Hoist Bot <hoist@example.com>")
    monkeypatch.setattr(settings, "git_timeout_seconds", 30.0)
    (tmp_path / "secrets").mkdir()
    return settings


def target_for(repository: str, edit: GitEdit = GitEdit.KUSTOMIZE, **extra: Any) -> GitTarget:
    return GitTarget(repository=repository, branch="main", edit=edit, **{**TARGETS[edit], **extra})


SET_TARGET = """mutation($env: String!, $target: GitTargetInput) {
  setGitTarget(application: "shop", environment: $env, gitTarget: $target) {
    errors { code field message } } }"""


async def set_target(
    gql: GraphQLClient, admin: str, target: GitTarget, environment: str = "prod"
) -> None:
    """The pipeline's Git target, set as a super-admin does (setGitTarget)."""
    fields = {k: v for k, v in target.to_json().items() if v is not None}
    data = await gql(SET_TARGET, {"env": environment, "target": fields}, token=admin)
    assert data["setGitTarget"]["errors"] == [], data


async def gitops_world(
    gql: GraphQLClient,
    people: People,
    admin: str,
    target: GitTarget,
    approvals: int = 0,
    **prod: Any,
) -> World:
    """The promotion world, a policy on prod needing `approvals`, and prod's Git target."""
    world = await make_world(gql, people, admin, **prod)
    await world.policy("lane", "prod", approver_count=approvals)
    await set_target(gql, admin, target)
    return world


async def promote_tag(world: World, tag: str = "1.0", approvals: int = 0) -> tuple[int, int]:
    """`registry.example.com/shop:<tag>` promoted from CI to prod: (image, request) ids."""
    image = await world.image(tag)
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    request = request_row(result)
    for name in ("approver", "approver2")[:approvals]:
        await world.decide(world.tokens[name], [request])
    await drain()
    assert await world.request_status(request) == "PROMOTED"
    return image, request


async def deploy_promoted(world: World, tag: str = "1.0", approvals: int = 0) -> Deployment:
    """Promote the image of `tag` to prod, deploy it, and run the jobs."""
    image, _ = await promote_tag(world, tag, approvals)
    return await deploy_image(world, image)


async def deploy_image(world: World, image: int) -> Deployment:
    result = await deploy(world, world.tokens["dev"], image)
    assert result["errors"] == [], result
    await drain()
    return await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
