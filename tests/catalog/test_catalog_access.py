"""Who may change the catalog, and which applications each caller sees (SPEC §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from app.accounts.models import Role
from app.catalog.models import Image, StageRun
from app.ids import global_id
from tests.support.catalog import make_catalog, make_image, refused, row_counts
from tests.support.graphql import GraphQLClient

if TYPE_CHECKING:
    from tests.conftest import People

ALL_ROLES = tuple((role, "*", "*") for role in Role)

CREATE_APPLICATION = """mutation { createApplication(name: "wiki") {
  application { name } errors { code } } }"""
CREATE_ENVIRONMENT = """mutation { createEnvironment(name: "qa") {
  environment { name } errors { code } } }"""
CREATE_WORKFLOW = """mutation { createWorkflow(input: {application: "blog", name: "nightly",
  ciPipeline: "blog-nightly", cdPipelines: [{environment: "staging"}]}) {
  workflow { name } errors { code } } }"""
CREATE_USER = """mutation { createUser(input: {email: "new@example.com", name: "New"}) {
  user { email } errors { code } } }"""
GRANT_ROLE = """mutation { grantRole(email: "ops@example.com", role: VIEWER) {
  roleBinding { role } errors { code } } }"""
REVOKE_ROLE = """mutation { revokeRole(email: "ops@example.com", role: VIEWER, application: "shop",
  environment: "dev") { deleted errors { code } } }"""
TOKEN_FOR_OPS = """mutation { createApiToken(name: "x", email: "ops@example.com") {
  token errors { code } } }"""

REGISTER = """
mutation($app: String!) {
  registerImage(input: {application: $app, workflow: "main", image: "reg.example.com/x:1"}) {
    image { id builtBy { email } application { name } } errors { code message field }
  }
}"""
STAGE = """
mutation($id: ID!, $env: String!) {
  recordStageResult(input: {imageId: $id, environment: $env, stage: DEPLOY, status: SUCCEEDED}) {
    stageRun { stage status environment { name } image { id } } errors { code message field }
  }
}"""

SUPER_ADMIN_ONLY = {
    "createApplication": CREATE_APPLICATION,
    "createEnvironment": CREATE_ENVIRONMENT,
    "createWorkflow": CREATE_WORKFLOW,
    "createUser": CREATE_USER,
    "grantRole": GRANT_ROLE,
    "revokeRole": REVOKE_ROLE,
    "createApiToken": TOKEN_FOR_OPS,
}


@pytest.fixture
async def catalog(people: People) -> None:
    await make_catalog()
    await people.user("ops@example.com", (Role.VIEWER, "shop", "dev"))


def payload(data: dict[str, Any], name: str) -> dict[str, Any]:
    return data[name]


@pytest.mark.parametrize("name", sorted(SUPER_ADMIN_ONLY))
async def test_super_admin_only_mutations_refuse_everyone_else(
    gql: GraphQLClient, people: People, admin: str, catalog: None, name: str
) -> None:
    mutation = SUPER_ADMIN_ONLY[name]
    holder_of_every_role = await people.token("dev@example.com", *ALL_ROLES)
    before = await row_counts()
    assert refused(await gql.raw(mutation, token=holder_of_every_role), name) == "FORBIDDEN"
    assert await row_counts() == before

    data = await gql(mutation, token=admin)
    assert data[name]["errors"] == []
    assert await row_counts() != before


REGISTER_ALLOWED = [
    (Role.BUILD_DEPLOY, "shop", "*"),
    (Role.BUILD_DEPLOY, "shop", "prod"),  # a binding on any environment of the app
    (Role.BUILD_DEPLOY, "*", "dev"),
    (Role.BUILD_DEPLOY, "*", "*"),
]
REGISTER_DENIED = [
    (Role.VIEWER, "shop", "*"),
    (Role.ARTIFACT_PROMOTER, "shop", "*"),
    (Role.DEPLOYMENT_APPROVER, "*", "*"),
    (Role.BUILD_DEPLOY, "blog", "*"),
]


@pytest.mark.parametrize("binding", REGISTER_ALLOWED, ids=lambda b: f"{b[0]}-{b[1]}-{b[2]}")
async def test_build_deploy_registers_images(
    gql: GraphQLClient, people: People, catalog: None, binding: tuple[Role, str, str]
) -> None:
    token = await people.token("ci@example.com", binding)
    data = await gql(REGISTER, {"app": "shop"}, token=token)
    image = payload(data, "registerImage")
    assert image["errors"] == []
    assert image["image"]["builtBy"] == {"email": "ci@example.com"}
    assert image["image"]["application"] == {"name": "shop"}
    assert await Image.all().count() == 1


@pytest.mark.parametrize("binding", REGISTER_DENIED, ids=lambda b: f"{b[0]}-{b[1]}-{b[2]}")
async def test_other_roles_cannot_register_images(
    gql: GraphQLClient, people: People, catalog: None, binding: tuple[Role, str, str]
) -> None:
    token = await people.token("ci@example.com", binding)
    before = await row_counts()
    body = await gql.raw(REGISTER, {"app": "shop"}, token=token)
    assert refused(body, "registerImage") == "FORBIDDEN"
    assert await row_counts() == before


async def test_a_caller_without_roles_cannot_tell_which_applications_exist(
    gql: GraphQLClient, people: People, catalog: None
) -> None:
    token = await people.token("ci@example.com")
    for app in ("shop", "no-such-app"):
        body = await gql.raw(REGISTER, {"app": app}, token=token)
        assert refused(body, "registerImage") == "FORBIDDEN"


STAGE_ALLOWED = [
    (Role.BUILD_DEPLOY, "shop", "dev"),
    (Role.BUILD_DEPLOY, "shop", "*"),
    (Role.BUILD_DEPLOY, "*", "dev"),
]
STAGE_DENIED = [
    (Role.BUILD_DEPLOY, "shop", "staging"),
    (Role.BUILD_DEPLOY, "*", "prod"),
    (Role.VIEWER, "shop", "dev"),
    (Role.ARTIFACT_PROMOTER, "shop", "dev"),
    (Role.DEPLOYMENT_APPROVER, "shop", "*"),
]


@pytest.mark.parametrize("binding", STAGE_ALLOWED, ids=lambda b: f"{b[0]}-{b[1]}-{b[2]}")
async def test_build_deploy_on_the_environment_records_stage_results(
    gql: GraphQLClient, people: People, catalog: None, binding: tuple[Role, str, str]
) -> None:
    image = await make_image("shop")
    token = await people.token("ci@example.com", binding)
    data = await gql(STAGE, {"id": global_id("Image", image.id), "env": "dev"}, token=token)
    assert data["recordStageResult"] == {
        "stageRun": {
            "stage": "DEPLOY",
            "status": "SUCCEEDED",
            "environment": {"name": "dev"},
            "image": {"id": global_id("Image", image.id)},
        },
        "errors": [],
    }
    run = await StageRun.get(image_id=image.id).select_related("reported_by")
    assert run.reported_by.email == "ci@example.com"


@pytest.mark.parametrize("binding", STAGE_DENIED, ids=lambda b: f"{b[0]}-{b[1]}-{b[2]}")
async def test_stage_results_need_build_deploy_on_that_environment(
    gql: GraphQLClient, people: People, catalog: None, binding: tuple[Role, str, str]
) -> None:
    image = await make_image("shop")
    token = await people.token("ci@example.com", binding)
    before = await row_counts()
    body = await gql.raw(STAGE, {"id": global_id("Image", image.id), "env": "dev"}, token=token)
    assert refused(body, "recordStageResult") == "FORBIDDEN"
    assert await row_counts() == before


async def test_an_image_of_an_application_you_cannot_see_is_not_found(
    gql: GraphQLClient, people: People, catalog: None
) -> None:
    image = await make_image("shop")
    token = await people.token("ci@example.com", (Role.BUILD_DEPLOY, "blog", "*"))
    before = await row_counts()
    data = await gql(STAGE, {"id": global_id("Image", image.id), "env": "dev"}, token=token)
    assert data["recordStageResult"]["stageRun"] is None
    assert [(e["code"], e["field"]) for e in data["recordStageResult"]["errors"]] == [
        ("NOT_FOUND", "imageId")
    ]
    assert await row_counts() == before


APPLICATIONS = "{ applications { name } }"
ONE = "query($name: String!) { application(name: $name) { name workflows { name } } }"
IMAGE = "query($id: ID!) { image(id: $id) { image application { name } } }"


@pytest.mark.parametrize(
    ("bindings", "visible"),
    [
        ([(Role.VIEWER, "shop", "dev")], ["shop"]),
        ([(Role.DEPLOYMENT_APPROVER, "blog", "prod")], ["blog"]),
        ([(Role.BUILD_DEPLOY, "*", "dev")], ["blog", "shop"]),
        ([(Role.VIEWER, "shop", "*"), (Role.ARTIFACT_PROMOTER, "blog", "dev")], ["blog", "shop"]),
        ([], []),
    ],
)
async def test_reads_show_only_applications_you_hold_a_role_on(
    gql: GraphQLClient,
    people: People,
    catalog: None,
    bindings: list[tuple[Role, str, str]],
    visible: list[str],
) -> None:
    images = {app: await make_image(app) for app in ("shop", "blog")}
    token = await people.token("dev@example.com", *bindings)
    listed = (await gql(APPLICATIONS, token=token))["applications"]
    assert [a["name"] for a in listed] == visible
    for app in ("shop", "blog"):
        one = (await gql(ONE, {"name": app}, token=token))["application"]
        image = (await gql(IMAGE, {"id": global_id("Image", images[app].id)}, token=token))["image"]
        if app in visible:
            assert one == {"name": app, "workflows": [{"name": "main"}]}
            assert image == {
                "image": f"registry.example.com/{app}:1.0.0",
                "application": {"name": app},
            }
        else:
            assert one is None
            assert image is None


async def test_super_admins_see_everything_and_unknown_things_are_null(
    gql: GraphQLClient, admin: str, catalog: None
) -> None:
    image = await make_image("blog")
    assert (await gql(APPLICATIONS, token=admin))["applications"] == [
        {"name": "blog"},
        {"name": "shop"},
    ]
    assert (await gql(ONE, {"name": "nope"}, token=admin))["application"] is None
    found = await gql(IMAGE, {"id": global_id("Image", image.id)}, token=admin)
    assert found["image"] is not None
    # No such image; the row's bare number; another type's id of the same row; junk.
    for missing in (
        global_id("Image", image.id + 1000),
        str(image.id),
        global_id("Application", image.id),
        "x",
        "-1",
        "99999999999999999999",
    ):
        assert (await gql(IMAGE, {"id": missing}, token=admin))["image"] is None, missing


async def test_every_signed_in_user_sees_the_environments(
    gql: GraphQLClient, people: People, catalog: None
) -> None:
    token = await people.token("dev@example.com")
    data = await gql("{ environments { name production } }", token=token)
    assert data["environments"] == [
        {"name": "dev", "production": False},
        {"name": "prod", "production": True},
        {"name": "staging", "production": False},
    ]


async def test_another_users_roles_show_only_applications_you_can_see(
    gql: GraphQLClient, people: People, catalog: None
) -> None:
    await people.user(
        "builder@example.com",
        (Role.BUILD_DEPLOY, "shop", "dev"),
        (Role.BUILD_DEPLOY, "blog", "*"),
        (Role.VIEWER, "*", "prod"),
    )
    image = await make_image("shop", built_by="builder@example.com")
    query = """query($id: ID!) {
      image(id: $id) { builtBy { roles { role application environment } } } }"""

    def bindings(data: dict[str, Any]) -> list[tuple[str, str, str]]:
        roles = data["image"]["builtBy"]["roles"]
        return sorted((r["role"], r["application"], r["environment"]) for r in roles)

    shop_viewer = await people.token("dev@example.com", (Role.VIEWER, "shop", "*"))
    assert bindings(await gql(query, {"id": global_id("Image", image.id)}, token=shop_viewer)) == [
        ("BUILD_DEPLOY", "shop", "dev")
    ]
    everything = await people.token("all@example.com", (Role.VIEWER, "*", "*"))
    assert bindings(await gql(query, {"id": global_id("Image", image.id)}, token=everything)) == [
        ("BUILD_DEPLOY", "blog", "*"),
        ("BUILD_DEPLOY", "shop", "dev"),
        ("VIEWER", "*", "prod"),
    ]
