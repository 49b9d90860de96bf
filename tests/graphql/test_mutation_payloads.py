"""Mutation payloads are nullable at the root and carry expected failures as typed
UserErrors, so a refused mutation never nulls a sibling's result (issue 14, item 1).
Authentication stays a top-level error; queries keep their top-level refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_nullable_type

from app.accounts.models import ApiToken, Role
from app.catalog.models import Application
from app.graphql.schema import schema
from app.ids import global_id
from app.promotions.models import PromotionRequest
from tests.support.catalog import denied, make_catalog, make_image, refused, row_counts
from tests.support.graphql import GraphQLClient

if TYPE_CHECKING:
    from tests.conftest import People

ERRORS = "errors { code message field }"

# The refused field first: with a non-null payload its error would null all of `data`,
# and the token created after it (committed) would be lost with its one-time secret.
FORBIDDEN_AND_ALLOWED = f"""mutation {{
  createApplication(name: "wiki") {{ application {{ name }} {ERRORS} }}
  createApiToken(name: "laptop") {{ apiToken {{ id name }} token {ERRORS} }}
}}"""

PROMOTE = f"""mutation($image: ID!, $source: ImageSourceInput!) {{
  promoteImage(imageId: $image, source: $source, targetEnvironments: ["prod"]) {{
    results {{ environment outcome }} {ERRORS} }} }}"""


async def test_a_refused_mutation_leaves_its_siblings_result_in_data(
    gql: GraphQLClient, people: People
) -> None:
    await make_catalog()
    dev = await people.token("dev@example.com", *((role, "*", "*") for role in Role))
    tokens_before = await ApiToken.all().count()
    body = await gql.raw(FORBIDDEN_AND_ALLOWED, token=dev)

    assert "errors" not in body, body
    application = body["data"]["createApplication"]
    assert application["application"] is None
    assert [(e["code"], e["field"]) for e in application["errors"]] == [("FORBIDDEN", None)]
    assert application["errors"][0]["message"]
    assert not await Application.exists(name="wiki")

    created = body["data"]["createApiToken"]
    assert created["errors"] == []
    assert created["apiToken"]["name"] == "laptop"
    secret = created["token"]
    assert secret and secret.startswith("hoist_")
    assert await ApiToken.all().count() == tokens_before + 1
    # The one-time secret reached the caller, and it lets them in.
    assert await gql("{ me { email } }", token=secret) == {"me": {"email": "dev@example.com"}}


async def test_promote_answers_an_unknown_image_and_a_bad_source_in_its_payload(
    gql: GraphQLClient, people: People
) -> None:
    await make_catalog()
    image = await make_image("shop")
    dev = await people.token("dev@example.com", (Role.BUILD_DEPLOY, "shop", "*"))
    before = await row_counts()

    ci = {"type": "CI"}
    unknown = await gql.raw(PROMOTE, {"image": global_id("Image", 999999), "source": ci}, token=dev)
    assert refused(unknown, "promoteImage") == "NOT_FOUND"
    assert unknown["data"]["promoteImage"]["errors"][0]["field"] == "imageId"
    # The image's bare row id is no id of it any more.
    bare = await gql.raw(PROMOTE, {"image": str(image.id), "source": ci}, token=dev)
    assert refused(bare, "promoteImage") == "NOT_FOUND"

    no_environment = {"type": "ENVIRONMENT"}
    bad = await gql.raw(
        PROMOTE, {"image": global_id("Image", image.id), "source": no_environment}, token=dev
    )
    assert refused(bad, "promoteImage") == "VALIDATION"
    [error] = bad["data"]["promoteImage"]["errors"]
    assert error["field"] == "source.environment" and error["message"]

    assert await row_counts() == before
    assert await PromotionRequest.all().count() == 0


async def test_an_unauthenticated_mutation_is_still_a_top_level_error(gql: GraphQLClient) -> None:
    await make_catalog()
    before = await row_counts()
    body = await gql.raw(f'mutation {{ createApplication(name: "wiki") {{ {ERRORS} }} }}')
    assert denied(body, "createApplication") == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["createApplication"]
    wrong = await gql.raw(FORBIDDEN_AND_ALLOWED, token="hoist_not-a-token")
    assert wrong["data"] == {"createApplication": None, "createApiToken": None}
    assert {e["extensions"]["code"] for e in wrong["errors"]} == {"UNAUTHENTICATED"}
    assert await row_counts() == before


def test_every_mutation_is_nullable_and_its_payload_has_typed_errors() -> None:
    graphql_schema = schema._schema
    mutation = graphql_schema.mutation_type
    assert mutation is not None and mutation.fields
    user_error = graphql_schema.get_type("UserError")
    assert isinstance(user_error, GraphQLObjectType)
    for name, field in mutation.fields.items():
        assert not isinstance(field.type, GraphQLNonNull), f"{name} answers {field.type}"
        payload = get_nullable_type(field.type)
        assert isinstance(payload, GraphQLObjectType), name
        errors = payload.fields.get("errors")
        assert errors is not None, f"{payload.name} has no errors field"
        # [UserError!]!: a list always there, of errors that are never null.
        assert isinstance(errors.type, GraphQLNonNull), payload.name
        listed = errors.type.of_type
        assert isinstance(listed, GraphQLList), payload.name
        assert isinstance(listed.of_type, GraphQLNonNull), payload.name
        assert listed.of_type.of_type is user_error, payload.name
