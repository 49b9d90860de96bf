"""Hypothesis strategies for GraphQL documents built from Hoist's schema.

Each document calls real Query or Mutation fields with arguments of the right type or
deliberately of a wrong one (random and unicode strings, huge and negative numbers,
empty lists, nulls, unknown enum values, forged cursors), inline or as variables, with
random aliases and selections of real fields nested down to and past the depth limit.
"""

from __future__ import annotations

import base64
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import strategies as st

from app.ids import global_id
from tests.security.schema_walk import GRAPHQL, Enum, literal, mutation_fields, query_fields

# Names and values that exist in the two-application world, so many calls hit real rows.
WORLD_STRINGS = [
    "shop",
    "blog",
    "dev",
    "staging",
    "prod",
    "main",
    "blog-flow",
    "shop-policy",
    "blog-policy",
    "shared-policy",
    "alice@example.com",
    "bob@blog.example",
    "admin@example.com",
    "both@example.com",
    "*",
    "registry.example.com/shop:1.1",
    "registry.example.com/blog-secret:2.0@sha256:" + "ab" * 32,
    "stable",
    "image.",
    "role.",
    "policy.applied",
]
NASTY_STRINGS = [
    "",
    " ",
    "%",
    "_",
    "%%",
    "*",
    "' OR '1'='1",
    '"; DROP TABLE users; --',
    "\\'",
    "\\",
    "\ud800",
    "a\udfffb",
    "\U0001f680",
    "İ",
    "ǅ",
    "\u202e",
    "\ufeff",
    "\n",
    "\r\n\t",
    "$x",
    "{{x}}",
    "../../etc/passwd",
    "x" * 5000,
    "null",
    "true",
    "-1",
    "1e309",
    "containerImage.startsWith(",
    "[" * 200,
    "apiVersion: v1\nkind: [",
]
CEL_SNIPPETS = [
    'containerImageTag.startsWith("v")',
    '"rc" in imageLabels',
    "size(imageLabels) > 1",
    'gitCommitDetails["x"].branch == "main"',
    "containerImage.matches('(')",
    "1 + ",
    "imageLabels.map(x, x)",
    "true ? 1 : 2",
    "nope == 1",
    "(" * 300 + "true" + ")" * 300,
]
MANIFEST = (
    "apiVersion: v1\nkind: artifactPromotionPolicy\nspec:\n  payload:\n"
    "    applicationEnvironments:\n      - appName: {app}\n        envName: {env}\n"
    "    applyToPolicyName: {policy}\n"
)

BOUNDARY_INTS = [
    0,
    1,
    6,
    7,
    20,
    99,
    100,
    101,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**53,
    2**63,
    2**64,
    10**30,
    -(10**30),
]


def _cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


cursors = st.one_of(
    st.integers(-(2**70), 2**70).map(lambda i: _cursor(f"id:{i}")),
    st.sampled_from(BOUNDARY_INTS).map(lambda i: _cursor(f"id:{i}")),
    st.text(max_size=12).map(lambda t: _cursor(f"id:{t}")),
    st.sampled_from(["id:", "aWQ6", "====", "%%%", "\ud800"]),
)

any_text = st.text(st.characters(exclude_characters="\x00"), max_size=40)
surrogate_text = st.text(st.characters(categories=["Cs", "Lu", "Nd", "So"]), max_size=6)
manifests = st.builds(
    MANIFEST.format,
    app=st.sampled_from(["shop", "blog", "'%'", "[x]", "*"]),
    env=st.sampled_from(["prod", "dev", "''", "{a: b}"]),
    policy=st.sampled_from(["shop-policy", "blog-policy", "ghost", "12", "~"]),
)
datetimes_text = st.one_of(
    st.sampled_from(
        [
            "2099-01-01T00:00:00Z",
            "2099-01-01T00:00:00",
            "9999-12-31T23:59:59-14:00",
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00+14:00",
            "2000-01-01",
            "tomorrow",
            "",
            "2099-13-45T99:99:99",
            "1970-01-01T00:00:00Z",
        ]
    ),
    st.builds(
        lambda moment, minutes: moment.replace(
            tzinfo=timezone(timedelta(minutes=minutes))
        ).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        st.integers(-1439, 1439),
    ),
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
)
strings = st.one_of(
    st.sampled_from(WORLD_STRINGS),
    st.sampled_from(NASTY_STRINGS),
    any_text,
    surrogate_text,
    cursors,
    st.sampled_from(CEL_SNIPPETS),
    manifests,
)
ints = st.one_of(st.integers(-10, 120), st.sampled_from(BOUNDARY_INTS))
# The types whose ids the API gives out (app/ids.py): most generated ids name a row that
# may exist, some another type's, some are forged or bare numbers.
_NODE = GRAPHQL.type_map["Node"]
assert isinstance(_NODE, GraphQLInterfaceType)
NODE_TYPES = sorted(GRAPHQL.get_possible_types(_NODE), key=lambda t: t.name)
ids = st.one_of(
    st.builds(global_id, st.sampled_from([t.name for t in NODE_TYPES]), st.integers(1, 60)),
    st.builds(global_id, st.sampled_from(["Image", "Nope", ""]), st.sampled_from(BOUNDARY_INTS)),
    st.integers(1, 60).map(str),
    st.integers(-5, 60),
    st.sampled_from(BOUNDARY_INTS).map(str),
    st.sampled_from(["0", "-1", " 1", "1.5", "1e3", "0x10", "\u0661", "٣", "99999999999999999999"]),
    strings,
)
floats = st.floats(allow_nan=False, allow_infinity=False)
names = st.text(string.ascii_letters + "_", min_size=1, max_size=6).filter(
    lambda n: not n.startswith("__")
)


def _wrong(draw: st.DrawFn) -> Any:
    """A value of some type, likely not the one asked for."""
    return draw(
        st.one_of(
            strings,
            ints,
            floats,
            st.booleans(),
            st.none(),
            st.lists(ints, max_size=3),
            st.dictionaries(names, ints, max_size=2),
        )
    )


def _scalar(draw: st.DrawFn, type_: GraphQLScalarType) -> Any:
    if type_.name == "String":
        return draw(strings)
    if type_.name == "Int":
        return draw(ints)
    if type_.name == "ID":
        return draw(ids)
    if type_.name == "Boolean":
        return draw(st.booleans())
    if type_.name == "DateTime":
        return draw(datetimes_text)
    if type_.name == "Float":
        return draw(floats)
    return draw(strings)


@st.composite
def values(draw: st.DrawFn, type_: Any, wrongness: float = 0.15) -> Any:
    """A value for an argument or input field of `type_` (right type most of the time)."""
    if draw(st.floats(0, 1)) < wrongness:
        return _wrong(draw)
    if isinstance(type_, GraphQLNonNull):
        return draw(values(type_.of_type, wrongness))
    if draw(st.floats(0, 1)) < 0.05:
        return None  # null where allowed
    if isinstance(type_, GraphQLList):
        return draw(st.lists(values(type_.of_type, wrongness), max_size=4))
    if isinstance(type_, GraphQLEnumType):
        choices = [*type_.values, "NOPE", "viewer", "ci"]
        return Enum(draw(st.sampled_from(choices)))
    if isinstance(type_, GraphQLInputObjectType):
        result: dict[str, Any] = {}
        for name, item in type_.fields.items():
            required = isinstance(item.type, GraphQLNonNull)
            keep = draw(st.floats(0, 1)) < (0.97 if required else 0.6)
            if keep:
                result[name] = draw(values(item.type, wrongness))
        if draw(st.floats(0, 1)) < 0.05:
            result[draw(names)] = draw(ints)  # an input field that does not exist
        return result
    assert isinstance(type_, GraphQLScalarType)
    return _scalar(draw, type_)


@st.composite
def selections(draw: st.DrawFn, type_: Any, depth: int) -> str:
    """A selection of real fields of `type_`, `depth` levels at most (empty for leaves)."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLInterfaceType):
        # Node: its own fields and, most of the time, one type's through a fragment (two
        # fragments could select one name with different types, a validation error).
        own = draw(selections(GraphQLObjectType(named.name, named.fields), depth))
        if draw(st.floats(0, 1)) < 0.2:
            return own
        kind = draw(st.sampled_from(NODE_TYPES))
        return f"{own[:-1]} ... on {kind.name} {draw(selections(kind, depth))} }}"
    assert isinstance(named, GraphQLObjectType)
    fields = sorted(named.fields)
    if depth <= 1:  # only leaves left
        fields = [f for f in fields if is_leaf_type(get_named_type(named.fields[f].type))]
    chosen = draw(
        st.lists(st.sampled_from([*fields, "__typename"]), min_size=1, max_size=4, unique=True)
    )
    parts = []
    for name in chosen:
        alias = f"{draw(names)}: " if draw(st.floats(0, 1)) < 0.1 else ""
        sub = ""
        if name != "__typename":
            sub = draw(selections(named.fields[name].type, depth - 1))
        parts.append(f"{alias}{name} {sub}".strip())
    return "{ " + " ".join(parts) + " }"


# Arguments whose bad values are specific: forged cursors, page sizes at and past the limits.
_HINTS: dict[str, st.SearchStrategy[Any]] = {
    "after": cursors,
    "first": st.sampled_from([-1, 0, 1, 100, 101, 2**31, -(2**31) - 1]),
}


@dataclass
class Document:
    query: str
    variables: dict[str, Any] = field(default_factory=dict)

    def inputs(self) -> str:
        """Everything the client wrote, to tell echoes from leaks."""
        return self.query + repr(self.variables)


@st.composite
def operations(draw: st.DrawFn, kind: str) -> Document:
    """A query or mutation calling 1-3 root fields with generated arguments."""
    roots = query_fields() if kind == "query" else mutation_fields()
    chosen = draw(st.lists(st.sampled_from(sorted(roots)), min_size=1, max_size=3))
    depth = draw(st.integers(1, 14))
    declared: list[str] = []
    variables: dict[str, Any] = {}
    calls = []
    for i, name in enumerate(chosen):
        root = roots[name]
        args: dict[str, str] = {}
        for arg_name, arg in root.args.items():
            required = isinstance(arg.type, GraphQLNonNull)
            if not required and draw(st.booleans()):
                continue
            if required and draw(st.floats(0, 1)) < 0.03:
                continue  # a required argument left out
            value = draw(
                _HINTS[arg_name] if arg_name in _HINTS and draw(st.booleans()) else values(arg.type)
            )
            if draw(st.booleans()):
                var = f"v{len(declared)}"
                declared.append(f"${var}: {arg.type}")
                variables[var] = value
                args[arg_name] = f"${var}"
            else:
                args[arg_name] = literal(value)
        alias = f"{draw(names)}{i}: " if draw(st.floats(0, 1)) < 0.3 else ""
        rendered = ", ".join(f"{k}: {v}" for k, v in args.items())
        call = f"{alias}{name}({rendered})" if rendered else f"{alias}{name}"
        calls.append(f"{call} {draw(selections(root.type, depth))}".strip())
    header = f"{kind}({', '.join(declared)})" if declared else kind
    return Document(f"{header} {{ {' '.join(calls)} }}", variables)


TOKENS = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$v",
    "!",
    "=",
    "@include(if: true)",
    "...",
    "fragment",
    "on",
    "query",
    "mutation",
    "subscription",
    "__schema",
    "__typename",
    '"s"',
    '"""block"""',
    "1",
    "-1",
    "1.5e3",
    "null",
    "true",
    "ID!",
    "String",
    "x:",
    "#",
    ",",
    "&",
    "|",
]


def soups() -> st.SearchStrategy[str]:
    """Token soup of GraphQL words, field names and punctuation, and plain random text."""
    words = st.sampled_from(TOKENS + sorted(query_fields()) + sorted(mutation_fields()))
    return st.one_of(
        st.lists(words, max_size=40).map(" ".join),
        st.text(st.characters(exclude_characters="\x00"), max_size=200),
    )
