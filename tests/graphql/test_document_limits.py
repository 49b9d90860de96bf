"""Document limits with fragments (issue 11 item 1): measured once per fragment, so any
document is judged in milliseconds, and the expanded size is bounded too.

The end-to-end proof over real HTTP, with /healthz answering meanwhile, is in
test_http_hardening.py; here the rules themselves, through the app and against a naive
expansion of generated fragment graphs.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_introspection_query, parse
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from app.graphql import limits as limits_module
from app.graphql.limits import MAX_REPEATS, DocumentLimits, document_problems
from app.graphql.schema import schema
from app.settings import get_settings
from tests.fuzz.budget import examples
from tests.support.counting import count_calls
from tests.support.graphql import GraphQLClient


def fragment_bomb(levels: int) -> str:
    """Fragments that each spread the next one twice: `levels` fragments stand for 2^levels
    fields (the 840-byte document that froze the server for 22 s had 22 levels)."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ __typename }}")
    return "query Bomb { ...F0 }\n" + "\n".join(fragments)


def refusal(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    return str(body["errors"][0]["message"])


async def test_a_fragment_bomb_is_refused_at_once(gql: GraphQLClient) -> None:
    body = await gql.raw(fragment_bomb(30))  # no token: validation comes first
    limit = get_settings().graphql_max_selections
    assert body.get("data") is None
    assert [e["message"] for e in body["errors"]] == [
        f"The document selects more than {10 * limit} fields once its fragments are "
        f"expanded; at most {limit} are allowed.",
        f"'__typename' is selected more than {10 * MAX_REPEATS} times in one selection set "
        f"(fragments included); at most {MAX_REPEATS} are allowed.",
    ]
    # Before the fix, 30 levels took hours (18 levels alone took 0.63 s in the limiters);
    # that each fragment is measured once is counted below, not timed.


async def test_fragments_below_the_limits_still_run(gql: GraphQLClient, admin: str) -> None:
    # 2^5 = 32 fields, merged into one __typename: under every limit.
    assert await gql(fragment_bomb(5), token=admin) == {"__typename": "Query"}


async def test_fragment_definitions_and_spreads_are_counted(gql: GraphQLClient) -> None:
    limit = get_settings().graphql_max_fragments
    many = " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(limit + 1))
    spreads = " ".join(f"...F{i}" for i in range(limit + 1))
    assert refusal(await gql.raw(f"query Q {{ {spreads} }} {many}")) == (
        f"The document defines {limit + 1} fragments; at most {limit} are allowed."
    )
    repeated = " ".join(["...F"] * (limit + 1))
    assert refusal(
        await gql.raw(f"query Q {{ {repeated} }} fragment F on Query {{ __typename }}")
    ) == (f"The document has {limit + 1} fragment spreads; at most {limit} are allowed.")


async def test_depth_counts_through_fragments(gql: GraphQLClient, admin: str) -> None:
    """The same chain as test_query_depth_is_limited, cut into fragments: a fragment's depth
    adds to where it is spread."""
    limit = get_settings().graphql_max_depth

    def chain(levels: int) -> str:
        # image > application > workflows > cdPipelines, then (policy > bindings)...
        names = ["image", "application", "workflows", "cdPipelines"] + ["policy", "bindings"] * 8
        types = ["Image", "Application", "Workflow", "CdPipeline"] + [
            "PromotionPolicy",
            "PolicyBinding",
        ] * 8
        fragments = []
        for i in range(1, levels):
            inner = f"...L{i + 1}" if i + 1 < levels else "__typename"
            fragments.append(f"fragment L{i} on {types[i - 1]} {{ {names[i]} {{ {inner} }} }}")
        start = "...L1" if levels > 1 else "__typename"
        return f'query Deep {{ image(id: "1") {{ {start} }} }} ' + " ".join(fragments)

    assert await gql(chain(limit), token=admin) == {"image": None}
    assert refusal(await gql.raw(chain(limit + 1), token=admin)) == (
        f"'Deep' is {limit + 1} levels deep: it exceeds the maximum query depth of {limit}."
    )


async def test_aliases_count_at_every_spread(gql: GraphQLClient, admin: str) -> None:
    limit = get_settings().graphql_max_aliases
    # One alias in a fragment spread limit+1 times (under distinct parents) is limit+1.
    fragment = "fragment A on Query { x: __typename }"
    spreads = " ".join("... on Query { ...A }" for _ in range(limit + 1))
    body = await gql.raw(f"query Q {{ {spreads} }} {fragment}", token=admin)
    assert "aliases found" in refusal(body)
    assert f"at most {limit} are allowed" in refusal(body)
    spreads = " ".join("... on Query { ...A }" for _ in range(limit))
    assert await gql(f"query Q {{ {spreads} }} {fragment}", token=admin) == {"x": "Query"}


async def test_one_field_repeated_in_one_selection_set_is_limited(
    gql: GraphQLClient, admin: str
) -> None:
    """graphql-core compares same-named fields pairwise: 1,240 `me { email }` (5,000 tokens)
    held the event loop for seconds. Spreads and inline fragments merge into the level."""
    plain = "query Q { " + "me { email } " * (MAX_REPEATS + 1) + "}"
    assert refusal(await gql.raw(plain)) == (
        f"'me' is selected {MAX_REPEATS + 1} times in one selection set (fragments "
        f"included); at most {MAX_REPEATS} are allowed."
    )
    spread = (
        "query Q { me { email } " + "... on Query { ...M } " * MAX_REPEATS + "} "
        "fragment M on Query { me { email } }"
    )
    assert "'me' is selected" in refusal(await gql.raw(spread))
    at_limit = "query Q { " + "me { email } " * MAX_REPEATS + "}"
    assert await gql(at_limit, token=admin) == {"me": {"email": "admin@example.com"}}


async def test_pairwise_field_comparisons_are_budgeted(gql: GraphQLClient, admin: str) -> None:
    """Under every limit of ours, yet 50 x 50 same-named fields cost graphql-core's overlap
    check 500,000 comparison units (0.2 s of event loop); its budget is 50,000 here."""
    document = "query Q { " + ("me { " + "email " * MAX_REPEATS + "} ") * MAX_REPEATS + "}"
    assert refusal(await gql.raw(document)) == "Validation aborted."
    at_ease = "query Q { " + ("me { " + "email " * 10 + "} ") * 10 + "}"
    assert await gql(at_ease, token=admin) == {"me": {"email": "admin@example.com"}}


async def test_graphiqls_introspection_query_passes(gql: GraphQLClient) -> None:
    """The deepest document real clients send: its introspection fields are not depth-counted
    (graphql-core's own rule bounds those), and its three fragments are small."""
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    body = await gql.raw(query)
    assert "errors" not in body, body.get("errors")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_the_rules_are_built_once_so_the_caches_hit(gql: GraphQLClient) -> None:
    """ParserCache and ValidationCache key on the rules: rules made per request never hit."""
    query = "query CacheProbe { __typename }"
    await gql.raw(query)
    parsed, validated = _get_parse_cache(128).cache_info(), _get_validate_cache(128).cache_info()
    for _ in range(3):
        assert (await gql.raw(query))["data"] == {"__typename": "Query"}
    assert _get_parse_cache(128).cache_info().hits == parsed.hits + 3
    assert _get_validate_cache(128).cache_info().hits == validated.hits + 3


# --- The memoised figures agree with a naive expansion of every spread -------------------

HUGE = 2**1000
LIMITS = DocumentLimits(
    max_depth=HUGE,
    max_aliases=HUGE,
    max_fragments=HUGE,
    max_selections=HUGE,
    max_repeats=HUGE,
    max_cost=HUGE,
)


def naive(document: str) -> tuple[int, int, int, int]:
    """Depth, aliases, fields and the most repeated response name's count of the only
    operation, expanding each spread in place (as Strawberry's limiters did), on documents
    small enough for that."""
    ast = parse(document)
    fragments = {d.name.value: d for d in ast.definitions if d.kind == "fragment_definition"}
    [operation] = [d for d in ast.definitions if d.kind == "operation_definition"]

    def level(selection_set: Any) -> list[Any]:
        """The fields of one level, inline fragments and spreads merged in."""
        fields = []
        for node in selection_set.selections:
            if node.kind == "field":
                fields.append(node)
            else:
                fields += level(
                    node.selection_set
                    if node.kind == "inline_fragment"
                    else fragments[node.name.value].selection_set
                )
        return fields

    def walk(selection_set: Any) -> tuple[int, int, int, int]:
        depth = aliases = count = repeated = 0
        names: dict[str, int] = {}
        for node in level(selection_set):
            d, a, f, r = walk(node.selection_set) if node.selection_set else (0, 0, 0, 0)
            if node.selection_set and not node.name.value.startswith("__"):
                depth = max(depth, 1 + d)
            aliases += a + (1 if node.alias else 0)
            count += f + 1
            repeated = max(repeated, r)
            name = (node.alias or node.name).value
            names[name] = names.get(name, 0) + 1
        return depth, aliases, count, max([repeated, *names.values()])

    return walk(operation.selection_set)


@st.composite
def fragment_graphs(draw: st.DrawFn) -> str:
    """Up to 7 fragments on Query, each spreading only later ones (no cycles), with nested
    `me { ... }` fields, aliases and inline fragments around the spreads."""
    count = draw(st.integers(1, 7))

    def body(index: int) -> str:
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            later = list(range(index + 1, count))
            kinds = ["leaf", "nested", "inline"] + (["spread", "spread"] if later else [])
            kind = draw(st.sampled_from(kinds))
            alias = "a: " if draw(st.booleans()) else ""
            if kind == "leaf":
                parts.append(f"{alias}__typename")
            elif kind == "spread":
                parts.append(f"...F{draw(st.sampled_from(later))}")
            else:
                inner = (
                    f"...F{draw(st.sampled_from(later))}"
                    if later and draw(st.booleans())
                    else "__typename"
                )
                parts.append(
                    f"{alias}me {{ email }} ... on Query {{ {inner} }}"
                    if kind == "inline"
                    else f"{alias}me {{ __typename }} {inner}"
                )
        return " ".join(parts)

    fragments = " ".join(f"fragment F{i} on Query {{ {body(i)} }}" for i in range(count))
    return f"query Q {{ ...F0 {body(count)} }} {fragments}"


@settings(max_examples=examples(200), deadline=None, database=None)
@given(document=fragment_graphs())
def test_memoised_costs_match_a_naive_expansion(document: str) -> None:
    depth, aliases, fields, repeated = naive(document)
    ast = parse(document)

    def refused(limits: DocumentLimits, words: str) -> bool:
        return any(words in problem for problem in document_problems(ast, limits, schema._schema))

    at = DocumentLimits(
        max_depth=depth,
        max_aliases=aliases,
        max_fragments=HUGE,
        max_selections=fields,
        max_repeats=repeated,
        max_cost=HUGE,
    )
    assert document_problems(ast, at, schema._schema) == [], document
    if depth:
        assert refused(DocumentLimits(depth - 1, HUGE, HUGE, HUGE, HUGE, max_cost=HUGE), "deep"), (
            document
        )
    if aliases:
        assert refused(
            DocumentLimits(HUGE, aliases - 1, HUGE, HUGE, HUGE, max_cost=HUGE), "aliases"
        )
    assert refused(DocumentLimits(HUGE, HUGE, HUGE, fields - 1, HUGE, max_cost=HUGE), "fields"), (
        document
    )
    assert refused(
        DocumentLimits(HUGE, HUGE, HUGE, HUGE, repeated - 1, max_cost=HUGE), "times in one"
    )


@pytest.mark.parametrize("levels", [30, 100, 400])
def test_measuring_is_linear_in_the_document(levels: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """2^400 expanded fields are counted without expanding them, and without recursion
    through the fragment chain (400 levels would overflow Python's stack): each selection
    set is measured once, however often the fragments spread one another (counted, not
    timed: the machine's speed says nothing about the algorithm)."""
    document = parse(fragment_bomb(levels))
    measured = count_calls(monkeypatch, limits_module, "_measure")
    problems = document_problems(document, LIMITS, schema._schema)
    assert problems == []  # nothing over LIMITS: the figures were computed, not refused
    assert measured() <= levels + 2  # each fragment and the operation once
