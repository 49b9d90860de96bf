"""Global object identification (Relay): opaque ids unique across types, `node` and
`nodes` with each type's visibility, id arguments that take only the ids the API gave out."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.relay import GlobalID

from app import ids
from app.accounts.access import SYSTEM
from app.accounts.models import Role
from app.catalog import service as catalog
from app.db import unit_of_work
from app.graphql.schema import schema
from tests.conftest import People
from tests.promotions.world import CI, World, build_world, drain
from tests.support.graphql import GraphQLClient

# Everything a dashboard reads in one go: images with their application, workflow and
# pipelines, requests with their users, deployments, the caller's tokens, policies.
LARGE = """
query Everything {
  me { __typename id email apiTokens { __typename id name } roles { role } }
  users(first: 100) { edges { node { __typename id email } } }
  applications { __typename id name workflows { __typename id name cdPipelines {
    __typename id environment { __typename id name } policy { __typename id name } } } }
  environments { __typename id name }
  promotionPolicies { __typename id name }
  promotionRequests(first: 100) { edges { node { __typename id status
    image { __typename id image application { __typename id name } workflow { __typename id } }
    requestedBy { __typename id email } targetEnvironment { __typename id name } } } }
  deploymentHistory(application: "shop", first: 100) { edges { node { __typename id
    image { __typename id } environment { __typename id } } } }
  auditLog(first: 100) { edges { node { __typename id action } } }
  notifications(first: 100) { edges { node { __typename id subject } } }
}"""

NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Image { image } ... on Application { name } ... on PromotionRequest { status } } }"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
DEPLOY = """mutation($image: ID!) { deployImage(application: "shop", environment: "prod",
  imageId: $image) { deployment { id } errors { code message } } }"""


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a response that carries an id."""
    if isinstance(value, dict):
        if "id" in value and "__typename" in value:
            yield value
        for child in value.values():
            yield from objects(child)
    elif isinstance(value, list):
        for child in value:
            yield from objects(child)


@pytest.fixture
async def world(gql: GraphQLClient, people: People, admin: str) -> World:
    world = await build_world(gql, people, admin)
    await world.policy("fast-lane", "prod", approver_count=0)
    await world.policy("careful", "staging", approver_count=1)
    image = await world.image()
    await world.promote(world.tokens["dev"], image, ["prod", "staging"], CI)
    await drain()  # promotes to prod at once; emails staging's approvers
    deployed = await gql(
        DEPLOY, {"image": ids.global_id("Image", image)}, token=world.tokens["dev"]
    )
    assert deployed["deployImage"]["errors"] == []
    return world


async def test_the_id_format_is_strawberrys_global_id() -> None:
    assert ids.global_id("Image", 7) == str(GlobalID("Image", "7"))
    assert ids.decode(str(GlobalID("PromotionRequest", "42"))) == ("PromotionRequest", 42)


@pytest.mark.parametrize(
    "value",
    [
        "1",  # a bare row id: the old format, ambiguous between types
        base64.b64encode(b"Image:0").decode(),
        base64.b64encode(b"Image:2147483648").decode(),  # beyond the id column
        base64.b64encode(b"Image:-1").decode(),
        base64.b64encode(b"Image:\xd9\xa3".decode("latin-1").encode()).decode(),
        base64.b64encode(b":1").decode(),
        "SW1hZ2U6MQ",  # no padding: not strict base64
        "x" * 200,
    ],
)
def test_only_ids_the_server_gives_out_decode(value: str) -> None:
    assert ids.decode(value) is None


def test_every_object_type_with_an_id_is_a_node() -> None:
    graphql_schema = schema._schema
    with_id = {
        name
        for name, t in graphql_schema.type_map.items()
        if not name.startswith("__") and "id" in getattr(t, "fields", {})
    }
    nodes = {t.name for t in graphql_schema.get_possible_types(graphql_schema.type_map["Node"])}
    interfaces = {"Node"}
    inputs = {name for name in with_id if name.endswith("Input")}
    assert with_id - interfaces - inputs == nodes
    assert len(nodes) >= 14


async def test_a_normalised_cache_keyed_by_id_alone_has_no_collisions(
    world: World, gql: GraphQLClient
) -> None:
    data = await gql(LARGE, token=world.admin)
    cache: dict[str, dict[str, Any]] = {}
    seen_types: set[str] = set()
    for obj in objects(data):
        seen_types.add(obj["__typename"])
        stored = cache.setdefault(obj["id"], {})
        for key, value in obj.items():
            if isinstance(value, dict | list):
                continue
            # One id, one object: every field read under it agrees (a Relay store's rule).
            assert stored.setdefault(key, value) == value, (obj["id"], key, stored, obj)
    # Row ids 1 of many tables are in the answer (the first application, environment,
    # image, request, user...), yet no two objects share an id.
    assert {
        "User",
        "ApiToken",
        "Application",
        "Workflow",
        "CdPipeline",
        "Environment",
        "PromotionPolicy",
        "PromotionRequest",
        "Image",
        "Deployment",
        "AuditEvent",
        "Notification",
    } <= seen_types
    row_ids = {obj["__typename"]: ids.decode(obj["id"]) for obj in objects(data)}
    assert len({decoded[1] for decoded in row_ids.values() if decoded}) < len(row_ids)
    assert len(cache) == len({(o["__typename"], o["id"]) for o in objects(data)})


async def test_node_finds_each_object_its_id_names(world: World, gql: GraphQLClient) -> None:
    data = await gql(LARGE, token=world.admin)
    every = {(o["__typename"], o["id"]) for o in objects(data)}
    for typename, object_id in every:
        found = (await gql(NODE, {"id": object_id}, token=world.admin))["node"]
        assert found is not None and (found["__typename"], found["id"]) == (typename, object_id)
    listed = [object_id for _, object_id in sorted(every)]
    answer = (await gql(NODES, {"ids": listed}, token=world.admin))["nodes"]
    assert [n["id"] for n in answer] == listed


async def test_node_hides_what_the_caller_may_not_see(
    world: World, gql: GraphQLClient, people: People
) -> None:
    data = await gql(LARGE, token=world.admin)
    by_type: dict[str, str] = {o["__typename"]: o["id"] for o in objects(data)}
    async with unit_of_work():
        await catalog.create_application(SYSTEM, "blog")
    outsider = await people.token("blog@example.com", (Role.BUILD_DEPLOY, "blog", "*"))
    shop_viewer = world.tokens["viewer"]
    for token, visible in (
        (outsider, {"Environment"}),
        (
            shop_viewer,
            {
                "Environment",
                "Application",
                "Workflow",
                "CdPipeline",
                "Image",
                "PromotionRequest",
                "Deployment",
            },
        ),
    ):
        for typename, object_id in by_type.items():
            found = (await gql(NODE, {"id": object_id}, token=token))["node"]
            if typename in visible:
                assert found is not None, (typename, token)
            else:
                # The same answer as for an id that names nothing at all.
                assert found is None, (typename, token)
    # Your own user and tokens you may see; other people's only a super-admin.
    me = (await gql("{ me { id apiTokens { id } } }", token=outsider))["me"]
    mine = [me["id"], me["apiTokens"][0]["id"]]
    assert [n["id"] for n in (await gql(NODES, {"ids": mine}, token=outsider))["nodes"]] == mine
    assert (await gql(NODES, {"ids": mine}, token=shop_viewer))["nodes"] == [None, None]


async def test_unknown_forged_and_bare_ids_answer_null(world: World, gql: GraphQLClient) -> None:
    forged = [
        "1",
        ids.global_id("Image", 999_999),
        ids.global_id("NoSuchType", 1),
        ids.global_id("UserError", 1),  # a type, but not a Node
        base64.b64encode(b"garbage").decode(),
    ]
    image = ids.global_id("Image", 1)
    answer = (await gql(NODES, {"ids": [*forged, image]}, token=world.admin))["nodes"]
    assert answer[:-1] == [None] * len(forged)
    assert answer[-1] == {"__typename": "Image", "id": image}


async def test_node_needs_a_token(world: World, gql: GraphQLClient) -> None:
    assert await gql.error_code(NODE, {"id": ids.global_id("Image", 1)}) == "UNAUTHENTICATED"


async def test_nodes_takes_at_most_100_ids(world: World, gql: GraphQLClient) -> None:
    body = await gql.raw(NODES, {"ids": [ids.global_id("Image", 1)] * 101}, token=world.admin)
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "ids"}


async def test_id_arguments_take_only_that_types_global_id(
    world: World, gql: GraphQLClient
) -> None:
    image = ids.global_id("Image", 1)
    query = "query($id: ID!) { image(id: $id) { id } }"
    assert (await gql(query, {"id": image}, token=world.admin))["image"] == {"id": image}
    for wrong in ("1", ids.global_id("Application", 1)):
        assert (await gql(query, {"id": wrong}, token=world.admin))["image"] is None
    promote = """mutation($id: ID!) { promoteImage(imageId: $id, source: {type: CI},
        targetEnvironments: ["prod"]) { results { outcome } errors { code field } } }"""
    refused = (await gql(promote, {"id": "1"}, token=world.tokens["dev"]))["promoteImage"]
    assert refused == {"results": [], "errors": [{"code": "NOT_FOUND", "field": "imageId"}]}


async def test_page_info_says_where_a_page_lies(world: World, gql: GraphQLClient) -> None:
    for _ in range(2):
        await world.image()
    query = """query($after: String) { images: promotableImages(application: "shop",
        workflow: "main", source: {type: CI}, first: 2, after: $after) {
        edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    first = (await gql(query, token=world.admin))["images"]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": first["edges"][0]["cursor"],
        "endCursor": first["edges"][-1]["cursor"],
    }
    after = first["pageInfo"]["endCursor"]
    second = (await gql(query, {"after": after}, token=world.admin))["images"]
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": second["edges"][0]["cursor"],
        "endCursor": second["edges"][-1]["cursor"],
    }
