"""registerImage and recordStageResult: what is recorded, and bad input naming the field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from app.accounts.models import Role
from app.catalog.models import Image, StageRun
from app.ids import global_id
from tests.support.catalog import make_catalog, make_image, row_counts
from tests.support.graphql import GraphQLClient

if TYPE_CHECKING:
    from tests.conftest import People

REGISTER = """
mutation($input: RegisterImageInput!) {
  registerImage(input: $input) {
    image {
      id image repository tag digest labels createdAt
      gitCommits { repo branch commitHash commitMessage author }
      builtBy { email } application { name } workflow { name }
    }
    errors { code message field }
  }
}"""
STAGE = """
mutation($input: StageResultInput!) {
  recordStageResult(input: $input) {
    stageRun { id stage status environment { name } image { id } } errors { code message field }
  }
}"""
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.fixture
async def catalog(db: str) -> None:
    await make_catalog()


def image_input(**extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "application": "shop",
            "workflow": "main",
            "image": "registry.example.com/shop:1.4.2",
            **extra,
        }
    }


async def register(gql: GraphQLClient, token: str, **extra: Any) -> dict[str, Any]:
    return (await gql(REGISTER, image_input(**extra), token=token))["registerImage"]


def errors_of(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_register_records_everything_given(
    gql: GraphQLClient, people: People, admin: str, catalog: None
) -> None:
    await people.user("builder@example.com")
    commit = {
        "repo": "https://git.example.com/shop",
        "branch": "main",
        "commitHash": "abc123",
        "commitMessage": "Fix checkout",
        "author": "Dev",
    }
    payload = await register(
        gql,
        admin,
        digest=DIGEST,
        labels=["stable", "release-1.4"],
        gitCommits=[commit, {"repo": "https://git.example.com/lib"}],
        builtBy="Builder@Example.com",
    )
    assert payload["errors"] == []
    image = payload["image"]
    assert image["image"] == "registry.example.com/shop:1.4.2"
    assert (image["repository"], image["tag"]) == ("registry.example.com/shop", "1.4.2")
    assert image["digest"] == DIGEST
    assert image["labels"] == ["stable", "release-1.4"]
    assert image["gitCommits"] == [
        commit,
        {
            "repo": "https://git.example.com/lib",
            "branch": None,
            "commitHash": None,
            "commitMessage": None,
            "author": None,
        },
    ]
    assert image["builtBy"] == {"email": "builder@example.com"}
    assert image["application"] == {"name": "shop"} and image["workflow"] == {"name": "main"}
    assert image["createdAt"]

    read = await gql(
        "query($id: ID!) { image(id: $id) { labels gitCommits { commitHash } } }",
        {"id": image["id"]},
        token=admin,
    )
    assert read["image"] == {
        "labels": ["stable", "release-1.4"],
        "gitCommits": [{"commitHash": "abc123"}, {"commitHash": None}],
    }


async def test_built_by_defaults_to_the_caller(
    gql: GraphQLClient, people: People, catalog: None
) -> None:
    token = await people.token("ci@example.com", (Role.BUILD_DEPLOY, "shop", "*"))
    payload = await register(gql, token)
    assert payload["image"]["builtBy"] == {"email": "ci@example.com"}
    assert payload["image"]["labels"] == [] and payload["image"]["gitCommits"] == []


@pytest.mark.parametrize(
    ("reference", "repository", "tag"),
    [
        ("reg:5000/a/b:1.2", "reg:5000/a/b", "1.2"),
        (f"a/b@{DIGEST}", "a/b", ""),
        (f"a/b:2.0@{DIGEST}", "a/b", "2.0"),
        ("shop:latest", "shop", "latest"),
        ("[::1]:5000/team/app:v1_rc.2", "[::1]:5000/team/app", "v1_rc.2"),
    ],
)
async def test_repository_and_tag_are_split_from_the_reference(
    gql: GraphQLClient, admin: str, catalog: None, reference: str, repository: str, tag: str
) -> None:
    payload = await register(gql, admin, image=reference)
    assert payload["errors"] == []
    assert (payload["image"]["repository"], payload["image"]["tag"]) == (repository, tag)


@pytest.mark.parametrize(
    "reference",
    [
        "",
        "   ",
        "registry.example.com/shop",
        "shop:",
        ":1.0",
        "a//b:1",
        "a/b:1:2",
        "a/b@sha256",
        "has space:1",
        "Shop:1",
        "https://reg.example.com/a:1",
        "a/b:" + "x" * 129,
        "reg/" + "a" * 500 + ":1",
    ],
    ids=repr,
)
async def test_bad_image_references_are_refused(
    gql: GraphQLClient, admin: str, catalog: None, reference: str
) -> None:
    before = await row_counts()
    payload = await register(gql, admin, image=reference)
    assert payload["image"] is None
    assert errors_of(payload) == [("VALIDATION", "image")]
    assert await row_counts() == before


async def test_every_bad_field_is_reported_and_nothing_written(
    gql: GraphQLClient, admin: str, catalog: None
) -> None:
    before = await row_counts()
    payload = await register(
        gql,
        admin,
        workflow="nope",
        image="bad ref",
        digest=" ",
        labels=["ok", ""],
        # 9999-12-31T23:59-14:00 is later than any UTC date-time can be.
        gitCommits=[{"repo": " "}, {"repo": "r", "committedAt": "9999-12-31T23:59:00-14:00"}],
        builtBy="who@example.com",
    )
    assert sorted(errors_of(payload)) == [
        ("NOT_FOUND", "builtBy"),
        ("NOT_FOUND", "workflow"),
        ("VALIDATION", "digest"),
        ("VALIDATION", "gitCommits[0].repo"),
        ("VALIDATION", "gitCommits[1].committedAt"),
        ("VALIDATION", "image"),
        ("VALIDATION", "labels[1]"),
    ]
    assert await row_counts() == before


async def test_an_unknown_application_or_workflow_is_not_found(
    gql: GraphQLClient, admin: str, catalog: None
) -> None:
    assert errors_of(await register(gql, admin, application="nope")) == [
        ("NOT_FOUND", "application")
    ]
    # blog's workflow is also called `main`, but shop has no `nightly`.
    assert errors_of(await register(gql, admin, workflow="nightly")) == [("NOT_FOUND", "workflow")]
    assert await Image.all().count() == 0


def stage_input(
    image_id: int, environment: str = "dev", stage: str = "DEPLOY", status: str = "SUCCEEDED"
) -> dict[str, Any]:
    return {
        "input": {
            "imageId": global_id("Image", image_id),
            "environment": environment,
            "stage": stage,
            "status": status,
        }
    }


async def test_stage_results_are_recorded_in_order(
    gql: GraphQLClient, admin: str, catalog: None
) -> None:
    image = await make_image("shop")
    for stage, status in (("PRE", "RUNNING"), ("PRE", "SUCCEEDED"), ("DEPLOY", "FAILED")):
        data = await gql(STAGE, stage_input(image.id, "staging", stage, status), token=admin)
        assert data["recordStageResult"]["errors"] == []
        run = data["recordStageResult"]["stageRun"]
        assert (run["stage"], run["status"], run["environment"]["name"], run["image"]["id"]) == (
            stage,
            status,
            "staging",
            global_id("Image", image.id),
        )
    runs = await StageRun.filter(image_id=image.id).order_by("id")
    assert [(r.stage.value, r.status.value) for r in runs] == [
        ("PRE", "RUNNING"),
        ("PRE", "SUCCEEDED"),
        ("DEPLOY", "FAILED"),
    ]


@pytest.mark.parametrize(
    ("environment", "stage", "expected"),
    [
        ("dev", "PRE", ("VALIDATION", "stage")),  # dev has no pre-deploy stage
        ("prod", "POST", ("VALIDATION", "stage")),
        ("qa", "DEPLOY", ("NOT_FOUND", "environment")),  # no such environment
    ],
)
async def test_stages_the_pipeline_does_not_have_are_refused(
    gql: GraphQLClient,
    admin: str,
    catalog: None,
    environment: str,
    stage: str,
    expected: tuple[str, str],
) -> None:
    image = await make_image("shop")
    before = await row_counts()
    data = await gql(STAGE, stage_input(image.id, environment, stage), token=admin)
    assert data["recordStageResult"]["stageRun"] is None
    assert errors_of(data["recordStageResult"]) == [expected]
    assert await row_counts() == before


async def test_an_environment_outside_the_images_workflow_is_not_found(
    gql: GraphQLClient, admin: str, catalog: None
) -> None:
    image = await make_image("blog")  # blog's workflow deploys to dev only
    before = await row_counts()
    data = await gql(STAGE, stage_input(image.id, "staging"), token=admin)
    assert errors_of(data["recordStageResult"]) == [("NOT_FOUND", "environment")]
    missing = await gql(STAGE, stage_input(image.id + 100), token=admin)
    assert errors_of(missing["recordStageResult"]) == [("NOT_FOUND", "imageId")]
    assert await row_counts() == before
