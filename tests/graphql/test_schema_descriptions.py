"""Every schema element says what it means (issue 14 item 4): GraphiQL documents the API.

The walk covers every type, field, argument, input field and enum value of the built
schema, except GraphQL's own (introspection types and the built-in scalars), so a new
element without a description fails here, named by its coordinate.
"""

from __future__ import annotations

from enum import StrEnum

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    specified_scalar_types,
)

from app.graphql.describe import describe_values
from app.graphql.schema import schema


def _described(text: str | None) -> bool:
    return bool(text and text.strip())


def undescribed(graphql_schema: GraphQLSchema) -> list[str]:
    """Coordinates of the elements without a description, in schema order."""
    missing: list[str] = []
    for name, type_ in graphql_schema.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if not _described(type_.description):
            missing.append(name)
        if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in type_.fields.items():
                if not _described(field.description):
                    missing.append(f"{name}.{field_name}")
                missing.extend(
                    f"{name}.{field_name}({arg_name}:)"
                    for arg_name, arg in field.args.items()
                    if not _described(arg.description)
                )
        elif isinstance(type_, GraphQLInputObjectType):
            missing.extend(
                f"{name}.{field_name}"
                for field_name, field in type_.fields.items()
                if not _described(field.description)
            )
        elif isinstance(type_, GraphQLEnumType):
            missing.extend(
                f"{name}.{value_name}"
                for value_name, value in type_.values.items()
                if not _described(value.description)
            )
    return missing


def test_every_schema_element_has_a_description() -> None:
    missing = undescribed(schema._schema)
    assert missing == [], f"{len(missing)} schema elements lack a description:\n" + "\n".join(
        missing
    )


# Module-level: with postponed annotations Strawberry resolves types from module globals.
@strawberry.enum(description="A colour.")
class Colour(StrEnum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.input
class Filter:
    name: str


@strawberry.type
class BareQuery:
    @strawberry.field
    def find(self, where: Filter) -> Colour:
        return Colour.RED


def test_the_walk_names_what_lacks_a_description() -> None:
    """The walk itself: a bare type, field, argument, input field and enum value are named."""
    assert sorted(undescribed(strawberry.Schema(BareQuery)._schema)) == [
        "BareQuery",
        "BareQuery.find",
        "BareQuery.find(where:)",
        "Colour.BLUE",
        "Colour.RED",
        "Filter",
        "Filter.name",
    ]


def test_describe_values_refuses_a_member_left_out() -> None:
    class Half(StrEnum):
        ONE = "ONE"
        TWO = "TWO"

    strawberry.enum(Half)
    with pytest.raises(ValueError, match="no description for TWO"):
        describe_values(Half, {Half.ONE: "The first."})
    with pytest.raises(ValueError, match="no description for TWO"):
        describe_values(Half, {Half.ONE: "The first.", Half.TWO: " "})


def test_describe_values_refuses_an_enum_not_registered() -> None:
    class Bare(StrEnum):
        ONE = "ONE"

    with pytest.raises(TypeError, match="not registered"):
        describe_values(Bare, {Bare.ONE: "The one."})


class Light(StrEnum):
    RED = "RED"
    GREEN = "GREEN"


strawberry.enum(Light, description="A traffic light.")


@strawberry.type
class LightQuery:
    light: Light = strawberry.field(default=Light.RED, description="One light.")


def test_describe_values_reach_the_schema() -> None:
    describe_values(Light, {Light.RED: "Stop.", Light.GREEN: "Go."})
    lights = strawberry.Schema(LightQuery)._schema.type_map["Light"]
    assert isinstance(lights, GraphQLEnumType)
    assert {name: value.description for name, value in lights.values.items()} == {
        "RED": "Stop.",
        "GREEN": "Go.",
    }
