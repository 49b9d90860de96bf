"""Walking Hoist's GraphQL schema (graphql-core's view) to build documents and judge answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    is_leaf_type,
    parse,
)

from app.graphql.cost import Estimator
from app.graphql.schema import schema
from app.settings import get_settings

GRAPHQL: GraphQLSchema = schema._schema
MASKED = "Internal error; it has been logged."


def query_fields() -> dict[str, GraphQLField]:
    assert GRAPHQL.query_type is not None
    return dict(GRAPHQL.query_type.fields)


def mutation_fields() -> dict[str, GraphQLField]:
    assert GRAPHQL.mutation_type is not None
    return dict(GRAPHQL.mutation_type.fields)


def object_type(name: str) -> GraphQLObjectType:
    found = GRAPHQL.get_type(name)
    assert isinstance(found, GraphQLObjectType), name
    return found


def full_selection(
    type_: Any, depth: int = 6, seen: tuple[str, ...] = (), aliased: frozenset[str] = frozenset()
) -> str:
    """Every field of `type_` down to `depth` levels, `__typename` on each object; a type is
    entered at most twice on one path (Image > application > ... > Image stops there). An
    interface (Node) selects every implementation's fields through a fragment on it; the
    fields in `aliased` are selected under `<Type>_<field>` aliases."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLInterfaceType):
        kinds = GRAPHQL.get_possible_types(named)
        # Fragments on different types may not select one name with different types
        # (Deployment.status and StageRun.status): those go under aliases.
        types_of: dict[str, set[str]] = {}
        for kind in kinds:
            for name, field in kind.fields.items():
                types_of.setdefault(name, set()).add(str(field.type))
        clashing = frozenset(name for name, types in types_of.items() if len(types) > 1)
        fragments = [
            f"... on {kind.name} {full_selection(kind, depth, seen, clashing)}" for kind in kinds
        ]
        return "{ " + " ".join(["__typename", *sorted(named.fields), *fragments]) + " }"
    assert isinstance(named, GraphQLObjectType)
    parts = ["__typename"]
    for name, field in sorted(named.fields.items()):
        if any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
            continue  # no object field takes a required argument today
        selected = f"{named.name}_{name}: {name}" if name in aliased else name
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(selected)
        elif depth > 1 and seen.count(inner.name) < 2:
            parts.append(f"{selected} {full_selection(inner, depth - 1, (*seen, named.name))}")
    return "{ " + " ".join(parts) + " }"


def document_within_cost(kind: str, name: str, args: dict[str, Any], root: Any, depth: int) -> str:
    """`kind { name(args) selection }` selecting everything `depth` levels deep, or as deep
    as the cost limit (HOIST_GRAPHQL_MAX_COST) lets it: lists multiply, so a connection of
    images with their lists, or node's fragments on every type, would be refused whole."""
    limit = get_settings().graphql_max_cost
    for levels in range(depth, 0, -1):
        document = f"{kind} {{ {call(name, args, full_selection(root.type, levels))} }}"
        [operation] = parse(document).definitions
        assert isinstance(operation, OperationDefinitionNode)
        if Estimator(GRAPHQL, {}, []).operation(operation) <= limit:
            return document
    raise AssertionError(f"{name}: even one level costs more than {limit}")


class Enum(str):
    """An enum value: a bare name in a document, a string in JSON variables."""


def literal(value: Any) -> str:
    """`value` written as a GraphQL literal."""
    if value is None:
        return "null"
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {value!r}")


def call(field: str, args: dict[str, Any], selection: str = "") -> str:
    """`field(arg: literal, ...) selection`, arguments inline."""
    rendered = ", ".join(f"{k}: {literal(v)}" for k, v in args.items())
    return f"{field}({rendered}) {selection}" if rendered else f"{field} {selection}"


def input_fields(type_: Any) -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf type) of every scalar/enum field an argument type takes, nested."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        for name, field in named.fields.items():
            for path, leaf in input_fields(field.type):
                yield (f"{name}.{path}" if path else name), leaf
    else:
        yield "", named


def is_list(type_: Any) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


def named_type(type_: Any) -> GraphQLNamedType:
    return get_named_type(type_)


def enum_values(type_: GraphQLEnumType) -> list[str]:
    return list(type_.values)


# ---------------------------------------------------------------------- answers


# Words that show an internal failure reached the client instead of a clear message.
_INTERNAL = re.compile(
    r"Traceback|File \"|tortoise|asyncpg|sqlite3|pypika|celpy|lark\.|"
    r"\b(?:[A-Z][A-Za-z]*(?:Error|Exception)|KeyError|StopIteration|DoesNotExist|"
    r"MultipleObjectsReturned)\b",
)
# graphql-core's own words for bad documents and values mention these and are fine.
_GRAPHQL_WORDS = re.compile(r"\bSyntax Error\b|GraphQL")


@dataclass
class Answer:
    status: int
    body: Any
    text: str

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or []) if isinstance(self.body, dict) else []


async def post(
    http: httpx.AsyncClient, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> Answer:
    """POST a document; the body is JSON-encoded with ASCII escapes so any string (lone
    surrogates included) reaches the server as a client could send it."""
    body = json.dumps({"query": query, "variables": variables or {}}, ensure_ascii=True)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await http.post("/graphql", content=body.encode(), headers=headers)
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = None
    return Answer(response.status_code, parsed, response.text)


def problems(answer: Answer, inputs: str = "") -> list[str]:
    """What is wrong with an answer: a 5xx, not GraphQL's JSON shape (a request refused as a
    whole is HTTP 400 with `errors` only), a masked crash, or internals in a message. Words
    the client sent itself (`inputs`) may be echoed back."""
    found = []
    if answer.status >= 500:
        found.append(f"HTTP {answer.status}")
    if not isinstance(answer.body, dict) or not ({"data", "errors"} & answer.body.keys()):
        found.append(f"not a GraphQL JSON answer: HTTP {answer.status} {answer.text[:200]!r}")
        return found
    if answer.status == 400 and (answer.data is not None or not answer.errors):
        found.append(f"HTTP 400 without request errors: {answer.text[:200]!r}")
    elif answer.status not in (200, 400):
        found.append(f"HTTP {answer.status}: {answer.text[:200]!r}")
    for message in _messages(answer.body):
        if message == MASKED:
            found.append("masked internal error")
            continue
        cleaned = _GRAPHQL_WORDS.sub("", message)
        for match in _INTERNAL.finditer(cleaned):
            if match.group(0) not in inputs and match.group(0) not in GRAPHQL.type_map:
                found.append(f"internal detail {match.group(0)!r} in {message[:300]!r}")
    return found


def _messages(body: dict[str, Any]) -> Iterator[str]:
    """Top-level error messages, and every UserError/outcome message in the data."""
    for error in body.get("errors") or []:
        yield str(error.get("message"))
    yield from _data_messages(body.get("data"))


# Fields of the data whose text Hoist writes for people: messages, errors, reasons.
_MESSAGE_KEYS = re.compile(r"message|error|reasons?|[a-z]+Reason|validateCondition")


def _data_messages(node: Any, key: str = "") -> Iterator[str]:
    if isinstance(node, str) and _MESSAGE_KEYS.fullmatch(key):
        yield node
    elif isinstance(node, dict):
        for name, value in node.items():
            yield from _data_messages(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from _data_messages(item, key)
