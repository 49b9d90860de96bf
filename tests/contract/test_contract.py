"""schema.graphql holds every item of the client contract kept in this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.check import contract_gaps

HERE = Path(__file__).resolve().parent
SCHEMA = (HERE.parent.parent / "schema.graphql").read_text()
CONTRACT = (HERE / "contract.graphql").read_text()


def test_schema_holds_the_contract() -> None:
    assert contract_gaps(SCHEMA, CONTRACT) == []


BASE = """
scalar DateTime
enum Color { RED GREEN }
type Thing { id: ID! name: String! color: Color }
union Found = Thing
input ThingInput { name: String! size: Int = 0 }
type ThingPayload { thing: Thing }
type Query { thing(id: ID!, first: Int = 20): Thing  find: Found }
type Mutation { makeThing(input: ThingInput!): ThingPayload! }
"""


def test_a_schema_equal_to_the_contract_has_no_gaps() -> None:
    assert contract_gaps(BASE, BASE) == []


@pytest.mark.parametrize(
    ("old", "new", "gap"),
    [
        ("enum Color { RED GREEN }", "enum Color { RED }", "enum value Color.GREEN: missing"),
        (
            "type Thing { id: ID! name: String! color: Color }",
            "type Thing { id: ID! color: Color }",
            "field Thing.name: missing",
        ),
        (
            "type Thing { id: ID! name: String! color: Color }",
            "type Thing { id: ID! name: String color: Color }",
            "field Thing.name: type String where the contract has String!",
        ),
        (
            "thing(id: ID!, first: Int = 20)",
            "thing(first: Int = 20)",
            "argument Query.thing(id): missing",
        ),
        (
            "thing(id: ID!, first: Int = 20)",
            "thing(id: String!, first: Int = 20)",
            "argument Query.thing(id): type String! where the contract has ID!",
        ),
        (
            "thing(id: ID!, first: Int = 20)",
            "thing(id: ID!, first: Int = 50)",
            "argument Query.thing(first): default 50 where the contract has 20",
        ),
        (
            "thing(id: ID!, first: Int = 20)",
            "thing(id: ID!, first: Int = 20, tenant: String!)",
            "argument Query.thing(tenant): required by the schema, unknown to the contract",
        ),
        (
            "input ThingInput { name: String! size: Int = 0 }",
            "input ThingInput { name: String! }",
            "field ThingInput.size: missing",
        ),
        (
            "input ThingInput { name: String! size: Int = 0 }",
            "input ThingInput { name: String! size: Int = 1 }",
            "field ThingInput.size: default 1 where the contract has 0",
        ),
        (
            "union Found = Thing",
            "type Other { id: ID! }\nunion Found = Other",
            "union member Found.Thing: missing",
        ),
        (
            "type ThingPayload { thing: Thing }",
            "input ThingPayload { thing: String }",
            "type ThingPayload: a GraphQLInputObjectType where the contract has a "
            "GraphQLObjectType",
        ),
        ("enum Color { RED GREEN }\n", "", "type Color: missing"),
    ],
)
def test_each_kind_of_gap_is_reported(old: str, new: str, gap: str) -> None:
    assert old in BASE
    schema = BASE.replace(old, new)
    if "Color" not in new:
        schema = schema.replace(" color: Color", "")
    assert gap in contract_gaps(schema, BASE)


def test_a_mutation_payload_may_be_nullable_at_the_root_only() -> None:
    nullable_root = BASE.replace(
        "makeThing(input: ThingInput!): ThingPayload!",
        "makeThing(input: ThingInput!): ThingPayload",
    )
    assert contract_gaps(nullable_root, BASE) == []
    # Anywhere else, a nullable type where the contract has non-null is a gap.
    contract = BASE.replace("first: Int = 20): Thing ", "first: Int = 20): Thing! ")
    assert contract_gaps(BASE, contract) == [
        "field Query.thing: type Thing where the contract has Thing!"
    ]


def test_additions_are_not_gaps() -> None:
    more = BASE.replace("type Thing { id: ID!", "type Thing { id: ID! extra: Int").replace(
        "thing(id: ID!, first: Int = 20)", "thing(id: ID!, first: Int = 20, tag: String)"
    )
    assert contract_gaps(more + "\ntype Spare { id: ID! }", BASE) == []
