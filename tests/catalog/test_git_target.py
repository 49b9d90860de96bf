"""A CD pipeline's Git target (app/catalog/git_target.py): given with createWorkflow or
setGitTarget (super-admins), read back on the pipeline, taken away with null; every bad
field refused by name with nothing written; a secret never accepted in the URL."""

from __future__ import annotations

from typing import Any

import pytest

from app.accounts.models import Role
from app.catalog import manifest
from app.catalog.models import CdPipeline
from app.errors import DomainError
from tests.catalog.test_workflows import create, envs, errors_of, pipeline, workflow
from tests.conftest import People
from tests.support.graphql import GraphQLClient

__all__ = ["envs"]

TARGET = {
    "repository": "https://git.example.com/shop/deploy.git",
    "branch": "main",
    "path": "envs/prod/kustomization.yaml",
    "edit": "KUSTOMIZE",
    "image": "registry.example.com/shop",
    "credential": "gitops",
}
READ = """query { application(name: "shop") { workflows { cdPipelines {
  environment { name } gitTarget { repository branch path edit image key container credential }
} } } }"""
SET = """mutation($env: String!, $target: GitTargetInput) {
  setGitTarget(application: "shop", environment: $env, gitTarget: $target) {
    cdPipeline { gitTarget { repository edit key } } errors { code field message } } }"""


async def targets(gql: GraphQLClient, admin: str) -> dict[str, dict[str, Any] | None]:
    data = await gql(READ, token=admin)
    [wf] = data["application"]["workflows"]
    return {p["environment"]["name"]: p["gitTarget"] for p in wf["cdPipelines"]}


async def test_a_workflow_is_created_with_a_git_target_and_shows_it(
    gql: GraphQLClient, admin: str, envs: None
) -> None:
    payload = await create(
        gql, admin, workflow(pipeline("staging"), pipeline("prod", "staging", gitTarget=TARGET))
    )
    assert payload["errors"] == []
    assert await targets(gql, admin) == {
        "staging": None,
        "prod": {**TARGET, "key": None, "container": None},
    }


async def test_set_git_target_sets_changes_and_clears_it(
    gql: GraphQLClient, admin: str, envs: None
) -> None:
    assert (await create(gql, admin, workflow(pipeline("staging"))))["errors"] == []
    helm = {
        "repository": "/srv/git/deploy.git",
        "branch": "release/2026",
        "path": "charts/shop/values-staging.yaml",
        "edit": "HELM_VALUES",
        "key": "image.tag",
    }
    done = (await gql(SET, {"env": "staging", "target": helm}, token=admin))["setGitTarget"]
    assert done == {
        "cdPipeline": {
            "gitTarget": {
                "repository": "/srv/git/deploy.git",
                "edit": "HELM_VALUES",
                "key": "image.tag",
            }
        },
        "errors": [],
    }
    cleared = (await gql(SET, {"env": "staging", "target": None}, token=admin))["setGitTarget"]
    assert cleared == {"cdPipeline": {"gitTarget": None}, "errors": []}
    assert await CdPipeline.filter(git_target__isnull=False).count() == 0


async def test_leaving_git_target_out_is_refused_and_keeps_the_target(
    gql: GraphQLClient, admin: str, envs: None
) -> None:
    """Taking a target away is said (gitTarget: null), never implied by leaving it out
    (found by tests/fuzz: the resolver once crashed without it)."""
    assert (await create(gql, admin, workflow(pipeline("prod", gitTarget=TARGET))))["errors"] == []
    for document, variables in (
        (
            'mutation { setGitTarget(application: "shop", environment: "prod") { '
            "cdPipeline { id } errors { code field message } } }",
            {},
        ),
        (SET, {"env": "prod"}),  # an undefined variable: the argument is left out
    ):
        payload = (await gql(document, variables, token=admin))["setGitTarget"]
        assert payload["cdPipeline"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "gitTarget")]
        assert "gitTarget: null" in payload["errors"][0]["message"]
    assert (await targets(gql, admin))["prod"] == {**TARGET, "key": None, "container": None}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"repository": "https://ci:s3cret@git.example.com/x.git"}, "repository", "credentials"),
        ({"repository": "https://ci@git.example.com/x.git"}, "repository", "credentials"),
        ({"repository": "ftp://git.example.com/x.git"}, "repository", "https://"),
        ({"repository": "deploy.git"}, "repository", "absolute path"),
        ({"branch": "a..b"}, "branch", "branch name"),
        ({"branch": "-x"}, "branch", "branch name"),
        ({"path": "../etc/passwd"}, "path", "inside the repository"),
        ({"path": "/etc/passwd"}, "path", "inside the repository"),
        ({"image": None}, "image", "KUSTOMIZE needs image"),
        ({"edit": "HELM_VALUES", "key": "image..tag"}, "key", "dotted path"),
        ({"edit": "MANIFEST"}, "container", "MANIFEST needs container"),
        ({"credential": "../../etc/shadow"}, "credential", "HOIST_GIT_CREDENTIALS_DIR"),
    ],
)
async def test_a_bad_target_is_refused_naming_its_field_and_nothing_changes(
    gql: GraphQLClient, admin: str, envs: None, change: dict[str, Any], field: str, words: str
) -> None:
    assert (await create(gql, admin, workflow(pipeline("prod", gitTarget=TARGET))))["errors"] == []
    bad = {k: v for k, v in {**TARGET, **change}.items() if v is not None}
    payload = (await gql(SET, {"env": "prod", "target": bad}, token=admin))["setGitTarget"]
    assert payload["cdPipeline"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("VALIDATION", f"gitTarget.{field}")
    ]
    assert words in payload["errors"][0]["message"]
    assert "s3cret" not in str(payload)
    assert (await targets(gql, admin))["prod"] == {**TARGET, "key": None, "container": None}


async def test_create_workflow_names_the_pipelines_bad_target_and_makes_nothing(
    gql: GraphQLClient, admin: str, envs: None
) -> None:
    bad = {**TARGET, "repository": "https://u:p@git.example.com/x.git", "path": "../x"}
    payload = await create(
        gql, admin, workflow(pipeline("staging"), pipeline("prod", gitTarget=bad))
    )
    assert errors_of(payload) == [
        ("VALIDATION", "cdPipelines[1].gitTarget.repository"),
        ("VALIDATION", "cdPipelines[1].gitTarget.path"),
    ]
    assert await CdPipeline.all().count() == 0


async def test_only_a_super_admin_sets_a_target_and_a_missing_pipeline_is_named(
    gql: GraphQLClient, admin: str, people: People, envs: None
) -> None:
    assert (await create(gql, admin, workflow(pipeline("prod"))))["errors"] == []
    deployer = await people.token("dev@example.com", (Role.BUILD_DEPLOY, "shop", "*"))
    refused = (await gql(SET, {"env": "prod", "target": TARGET}, token=deployer))["setGitTarget"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    missing = (await gql(SET, {"env": "qa", "target": TARGET}, token=admin))["setGitTarget"]
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("NOT_FOUND", "environment")]
    assert await CdPipeline.filter(git_target__isnull=False).count() == 0


MANIFEST = """\
apiVersion: v1
kind: workflow
spec:
  application: shop
  name: main
  ciPipeline: shop-ci
  cdPipelines:
    - environment: prod
      gitTarget:
        repository: https://git.example.com/shop/deploy.git
        branch: main
        path: envs/prod/deployment.yaml
        edit: manifest
        container: shop
"""


def test_the_manifest_reads_a_git_target_with_its_lines() -> None:
    read = manifest.read(MANIFEST)
    assert read.input["cdPipelines"][0]["gitTarget"] == {
        "repository": "https://git.example.com/shop/deploy.git",
        "branch": "main",
        "path": "envs/prod/deployment.yaml",
        "edit": "MANIFEST",
        "container": "shop",
    }
    # The server's field names for the target, mapped to the manifest's lines.
    assert read.line("cdPipelines[0].gitTarget.path") == 12
    assert read.line("cdPipelines[0].gitTarget.key") == 10  # not given: the target's line


@pytest.mark.parametrize(
    ("change", "field", "line"),
    [
        (("        container: shop\n", "        container: shop\n        tag: x\n"), "tag", 15),
        (("        edit: manifest\n", "        edit: rsync\n"), "edit", 13),
        (("        branch: main\n", ""), "branch", 10),
    ],
)
def test_a_bad_git_target_in_a_manifest_names_field_and_line(
    change: tuple[str, str], field: str, line: int
) -> None:
    with pytest.raises(DomainError) as refused:
        manifest.read(MANIFEST.replace(*change))
    assert refused.value.field == f"spec.cdPipelines[0].gitTarget.{field}"
    assert f"line {line}" in refused.value.message
