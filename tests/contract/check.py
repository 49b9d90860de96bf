"""Does a schema hold every item of the client contract, with the same types?

The contract (tests/contract/contract.graphql, a copy of the one the clients are written
against) is a subset of the schema: every type of it exists with the same kind, every
field, argument and input field with the same type and default, every enum value and
union member. The schema may add anything except a required argument the contract's
callers would not send. One leniency: a root Mutation field may answer a nullable payload
where the contract says non-null, so that one mutation's error never nulls its siblings.
"""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLUnionType,
    build_schema,
    print_ast,
)
from graphql.pyutils import Undefined
from graphql.utilities import ast_from_value


def _default(item: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as SDL text (None: no default), so `"*"` and `"*"` compare equal."""
    node = getattr(item.ast_node, "default_value", None) if item.ast_node else None
    if node is not None:
        return print_ast(node)
    if item.default_value is Undefined:
        return None
    value = ast_from_value(item.default_value, item.type)
    return print_ast(value) if value is not None else None


def _field_gaps(
    owner: str,
    name: str,
    schema_field: GraphQLField | GraphQLInputField,
    contract_field: GraphQLField | GraphQLInputField,
) -> list[str]:
    gaps: list[str] = []
    want, have = str(contract_field.type), str(schema_field.type)
    nullable_payload = owner == "Mutation" and want == f"{have}!"
    if have != want and not nullable_payload:
        gaps.append(f"field {owner}.{name}: type {have} where the contract has {want}")
    if isinstance(contract_field, GraphQLInputField):
        assert isinstance(schema_field, GraphQLInputField)
        if _default(schema_field) != _default(contract_field):
            gaps.append(
                f"field {owner}.{name}: default {_default(schema_field)} where the "
                f"contract has {_default(contract_field)}"
            )
        return gaps
    assert isinstance(schema_field, GraphQLField)
    for arg_name, contract_arg in contract_field.args.items():
        where = f"argument {owner}.{name}({arg_name})"
        schema_arg = schema_field.args.get(arg_name)
        if schema_arg is None:
            gaps.append(f"{where}: missing")
        elif str(schema_arg.type) != str(contract_arg.type):
            gaps.append(
                f"{where}: type {schema_arg.type} where the contract has {contract_arg.type}"
            )
        elif _default(schema_arg) != _default(contract_arg):
            gaps.append(
                f"{where}: default {_default(schema_arg)} where the contract has "
                f"{_default(contract_arg)}"
            )
    for arg_name, schema_arg in schema_field.args.items():
        required = str(schema_arg.type).endswith("!") and _default(schema_arg) is None
        if arg_name not in contract_field.args and required:
            gaps.append(
                f"argument {owner}.{name}({arg_name}): required by the schema, "
                "unknown to the contract"
            )
    return gaps


def _type_gaps(contract_type: GraphQLNamedType, schema_type: GraphQLNamedType | None) -> list[str]:
    name = contract_type.name
    if schema_type is None:
        return [f"type {name}: missing"]
    if type(schema_type) is not type(contract_type):
        return [
            f"type {name}: a {type(schema_type).__name__} where the contract has a "
            f"{type(contract_type).__name__}"
        ]
    gaps: list[str] = []
    if isinstance(contract_type, GraphQLEnumType):
        assert isinstance(schema_type, GraphQLEnumType)
        gaps += [
            f"enum value {name}.{v}: missing"
            for v in contract_type.values
            if v not in schema_type.values
        ]
    if isinstance(contract_type, GraphQLUnionType):
        assert isinstance(schema_type, GraphQLUnionType)
        members = {t.name for t in schema_type.types}
        gaps += [
            f"union member {name}.{t.name}: missing"
            for t in contract_type.types
            if t.name not in members
        ]
    if isinstance(contract_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        assert isinstance(
            schema_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        )
        for field_name, contract_field in contract_type.fields.items():
            schema_field = schema_type.fields.get(field_name)
            if schema_field is None:
                gaps.append(f"field {name}.{field_name}: missing")
            else:
                gaps += _field_gaps(name, field_name, schema_field, contract_field)
    return gaps


def contract_gaps(schema_sdl: str, contract_sdl: str) -> list[str]:
    """One line per contract item the schema lacks or types differently; [] when it holds."""
    schema = build_schema(schema_sdl)
    contract = build_schema(contract_sdl)
    gaps: list[str] = []
    for name, contract_type in contract.type_map.items():
        if not name.startswith("__"):
            gaps += _type_gaps(contract_type, schema.type_map.get(name))
    return gaps
