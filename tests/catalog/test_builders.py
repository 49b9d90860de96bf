"""Who may name an image's builder, who registered it, and who counts as its builders
(app/catalog/builders.py; issue 11, item 7)."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest

from app.accounts.access import SYSTEM, Access
from app.accounts.models import Role, User
from app.accounts.service import create_api_token, create_user, grant_role
from app.catalog import types
from app.catalog.builders import builders_of, not_built_by
from app.catalog.models import (
    Application,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Workflow,
)
from tests.conftest import People
from tests.support.catalog import make_catalog, refused, row_counts
from tests.support.graphql import GraphQLClient
from tests.support.ids import row

REGISTER = """mutation($input: RegisterImageInput!) { registerImage(input: $input) {
  image { id builtBy { email } registeredBy { email ciIdentity } }
  errors { code message field } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  user { email ciIdentity } errors { code field } } }"""


@pytest.fixture
async def catalog(db: str) -> None:
    await make_catalog()


async def register(gql: GraphQLClient, token: str, built_by: str | None = None) -> dict[str, Any]:
    variables = {
        "input": {
            "application": "shop",
            "workflow": "main",
            "image": "registry.example.com/shop:1.0",
            "builtBy": built_by,
        }
    }
    return (await gql(REGISTER, variables, token=token))["registerImage"]


async def ci_identity(gql: GraphQLClient, admin: str, email: str = "ci@example.com") -> str:
    """A CI system's account, made as an admin would: createUser with ciIdentity."""
    data = await gql(
        CREATE_USER, {"input": {"email": email, "name": "CI", "ciIdentity": True}}, token=admin
    )
    assert data["createUser"] == {"user": {"email": email, "ciIdentity": True}, "errors": []}
    await grant_role(SYSTEM, email, Role.BUILD_DEPLOY, "shop", "*")
    user = await User.get(email=email)
    return (await create_api_token(Access(user), "ci", None, None))[1]


async def test_only_a_ci_identity_or_a_super_admin_may_name_another_builder(
    gql: GraphQLClient, people: People, admin: str, catalog: None
) -> None:
    await people.user("alice@example.com")
    dev = await people.token(
        "dev@example.com", (Role.BUILD_DEPLOY, "shop", "*"), (Role.ARTIFACT_PROMOTER, "shop", "*")
    )
    before = await row_counts()
    # Someone else, or an email nobody has: the same refusal, so it tells no emails apart.
    for other in ("alice@example.com", "nobody@example.com"):
        refusal = await register(gql, dev, built_by=other)
        assert refusal["image"] is None
        assert [(e["code"], e["field"]) for e in refusal["errors"]] == [("FORBIDDEN", "builtBy")]
    assert await row_counts() == before

    own = await register(gql, dev, built_by=" Dev@Example.com ")  # naming yourself is fine
    assert own["errors"] == []
    assert own["image"]["builtBy"] == {"email": "dev@example.com"}
    assert own["image"]["registeredBy"] == {"email": "dev@example.com", "ciIdentity": False}

    ci = await ci_identity(gql, admin)
    by_ci = await register(gql, ci, built_by="alice@example.com")
    assert by_ci["errors"] == []
    assert by_ci["image"]["builtBy"] == {"email": "alice@example.com"}
    assert by_ci["image"]["registeredBy"] == {"email": "ci@example.com", "ciIdentity": True}
    unknown = await register(gql, ci, built_by="nobody@example.com")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "builtBy")]

    by_admin = await register(gql, admin, built_by="alice@example.com")
    assert by_admin["errors"] == []
    assert by_admin["image"]["builtBy"] == {"email": "alice@example.com"}
    assert by_admin["image"]["registeredBy"] == {"email": "admin@example.com", "ciIdentity": False}
    rows = await Image.filter(id=row(by_ci["image"]["id"], "Image")).values(
        "registered_by_ci", "registered_by__email"
    )
    assert rows == [{"registered_by_ci": True, "registered_by__email": "ci@example.com"}]


async def test_ci_identity_is_only_for_super_admins_to_make(
    gql: GraphQLClient, people: People, catalog: None
) -> None:
    dev = await people.token("dev@example.com", (Role.BUILD_DEPLOY, "shop", "*"))
    body = await gql.raw(
        CREATE_USER,
        {"input": {"email": "bot@example.com", "name": "b", "ciIdentity": True}},
        token=dev,
    )
    assert refused(body, "createUser") == "FORBIDDEN"
    assert not await User.exists(email="bot@example.com")


async def test_the_python_and_sql_forms_agree_on_every_case(db: str) -> None:
    """Every combination of builder, registrant and CI flag, for every kind of caller."""
    await make_catalog()
    users = [await create_user(SYSTEM, f"u{i}@example.com", f"u{i}") for i in range(3)]
    u1, u2, outsider = (u.id for u in users)
    app = await Application.get(name="shop")
    workflow = await Workflow.get(application_id=app.id, name="main")
    dev = await Environment.get(name="dev")
    images = []
    for n, (built, registered, ci) in enumerate(
        product((None, u1, u2), (None, u1, u2), (False, True))
    ):
        image = await Image.create(
            application_id=app.id,
            workflow_id=workflow.id,
            image=f"registry.example.com/shop:{n}",
            built_by_id=built,
            registered_by_id=registered,
            registered_by_ci=ci,
        )
        await StageRun.create(
            image_id=image.id,
            environment_id=dev.id,
            stage=Stage.DEPLOY,
            status=StageStatus.SUCCEEDED,
        )
        images.append(image)
    assert builders_of(images[-1]) == {u2}  # built by u2, registered by u2 as CI
    for me in (u1, u2, outsider, None):
        expected = {i.id for i in images if me not in builders_of(i)}
        direct = set(await Image.filter(not_built_by(me)).values_list("id", flat=True))
        through = set(
            await StageRun.filter(not_built_by(me, "image__")).values_list("image_id", flat=True)
        )
        assert direct == expected, me
        assert through == expected, me
    for image in images:  # the GraphQL type carries what the rule reads
        assert builders_of(types.Image.of(image)) == builders_of(image)
