"""The static cost estimate (issue 14 item 5): page sizes multiplied through nested lists,
fragments estimated once, every real client's document under the default limit."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    get_introspection_query,
    parse,
    validate,
)

from app.graphql.cost import LIST_ITEMS, Estimator
from app.graphql.limits import DocumentLimits, _fragment_order, document_problems, limit_rules
from app.graphql.schema import build_schema, schema
from app.limits import MAX_PAGE
from app.settings import get_settings
from tests.support.graphql import GraphQLClient

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schema._schema
HUGE = 2**1000


def limits(max_cost: int) -> DocumentLimits:
    """Only the cost bounded."""
    return DocumentLimits(
        max_depth=HUGE,
        max_aliases=HUGE,
        max_fragments=HUGE,
        max_selections=HUGE,
        max_repeats=HUGE,
        max_cost=max_cost,
    )


def cost(document: str | DocumentNode) -> int:
    """The estimate of the document's only operation."""
    ast_ = parse(document) if isinstance(document, str) else document
    fragments = {d.name.value: d for d in ast_.definitions if isinstance(d, FragmentDefinitionNode)}
    [operation] = [d for d in ast_.definitions if isinstance(d, OperationDefinitionNode)]
    return Estimator(SCHEMA, fragments, _fragment_order(fragments)).operation(operation)


# What nested() selects per node of its page: node 1; approvals 1 + LIST_ITEMS x (user 1,
# roles 1 + LIST_ITEMS x 3, apiTokens 1 + LIST_ITEMS x 3); image 1, application 1,
# workflows 1 + LIST_ITEMS x (cdPipelines 1 + LIST_ITEMS x (environment 1, name 1)).
# promotionRequests and edges add 2 once.
PER_NODE = 5 + LIST_ITEMS * (4 + 8 * LIST_ITEMS)


def nested(first: str) -> str:
    """A connection whose nodes hold a list whose items hold a list."""
    return (
        f"query Nested{'($first: Int)' if first == '$first' else ''} {{ "
        f"promotionRequests(first: {first}) {{ edges {{ node {{ "
        "approvals { user { roles { role application environment } "
        "apiTokens { id name createdAt } } } "
        "image { application { workflows { cdPipelines { environment { name } } } } } } } } }"
    )


def message(estimate: int, limit: int) -> str:
    return (
        f"'Nested' has an estimated cost of {estimate}, above the limit of {limit}: each list "
        f"multiplies the cost of what it selects by its page size (`first`; {MAX_PAGE} when "
        f"`first` is a variable, {LIST_ITEMS} for a list without `first`). Ask for smaller "
        "pages or fewer nested lists."
    )


async def test_nested_lists_over_the_limit_are_refused(gql: GraphQLClient, admin: str) -> None:
    limit = get_settings().graphql_max_cost
    per_page = (limit - 2) // PER_NODE
    assert per_page < MAX_PAGE  # a page that fetches so much is possible
    refused = await gql.raw(nested(str(per_page + 1)), token=admin)
    assert refused.get("data") is None
    assert [e["message"] for e in refused["errors"]] == [
        message(2 + PER_NODE * (per_page + 1), limit)
    ]
    assert await gql(nested(str(per_page)), token=admin) == {"promotionRequests": {"edges": []}}


def test_the_page_size_multiplies_what_a_connection_selects() -> None:
    assert cost(nested("1")) == 2 + PER_NODE
    assert cost(nested("50")) == 2 + PER_NODE * 50
    # The connection's own fields (totalCount, pageInfo) are not per item; only its lists are.
    assert cost(
        "{ auditLog(first: 50) { totalCount pageInfo { hasNextPage } edges { node { id } } } }"
    ) == (1 + 1 + 2 + 1 + 50 * 2)
    # Absent `first`: the argument's default (20); a literal over 100 cannot fetch more.
    assert (
        cost(nested("null")) == cost(nested("20")) == cost(nested("20").replace("(first: 20)", ""))
    )
    assert cost(nested("5000")) == cost(nested(str(MAX_PAGE)))


def test_a_variable_first_counts_as_the_largest_page() -> None:
    """Validation runs (and is cached) without the variables' values."""
    assert cost(nested("$first")) == cost(nested(str(MAX_PAGE))) == 2 + PER_NODE * MAX_PAGE
    problems = document_problems(parse(nested("$first")), limits(2 + PER_NODE * 99), SCHEMA)
    assert problems == [message(2 + PER_NODE * MAX_PAGE, 2 + PER_NODE * 99)]


def test_a_fragment_costs_what_its_expansion_costs() -> None:
    """Fragments on a connection type and on a node type, spread under pages of different
    sizes: estimated once each, yet the same as the inline document."""
    inline = (
        "query Q { a: auditLog(first: 7) { totalCount edges { node { id action } } } "
        "b: auditLog(first: 3) { totalCount edges { node { id action } } } "
        "users(first: 4) { edges { node { roles { role } apiTokens { id } } } } }"
    )
    with_fragments = (
        "query Q { a: auditLog(first: 7) { ...Page } b: auditLog(first: 3) { ...Page } "
        "users(first: 4) { edges { node { ...Person } } } } "
        "fragment Page on AuditEventConnection { totalCount edges { ...Row } } "
        "fragment Row on AuditEventEdge { node { id action } } "
        "fragment Person on User { ... on User { roles { role } } apiTokens { id } }"
    )
    # a: 3 + 7 x (node, id, action); b: 3 + 3 x 3; users: 2 + 4 x (edge's node 1 + roles
    # 1 + LIST_ITEMS x role + apiTokens 1 + LIST_ITEMS x id).
    person = 3 + 2 * LIST_ITEMS
    assert cost(with_fragments) == cost(inline) == (3 + 7 * 3) + (3 + 3 * 3) + (2 + 4 * person)


def fragment_bomb(levels: int) -> str:
    """`levels` fragments each spreading the next twice: 2^levels `me { email }`."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ me {{ email }} }}")
    return "query Bomb { ...F0 }\n" + "\n".join(fragments)


def test_a_fragment_bomb_is_estimated_without_expanding_it() -> None:
    """2^401 fields are counted from 400 stored figures: expanding them would never end."""
    assert cost(fragment_bomb(400)) == 2 * 2**400
    problems = document_problems(parse(fragment_bomb(400)), limits(10_000), SCHEMA)
    assert problems == [
        "'Bomb' has an estimated cost of more than 100000, above the limit of 10000: each "
        f"list multiplies the cost of what it selects by its page size (`first`; {MAX_PAGE} "
        f"when `first` is a variable, {LIST_ITEMS} for a list without `first`). Ask for "
        "smaller pages or fewer nested lists."
    ]


def test_the_configured_maximum_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    estimate = 2 + 2 * PER_NODE
    document = parse(nested("2"))
    rules = limit_rules(limits(estimate - 1))
    assert [e.message for e in validate(SCHEMA, document, rules)] == [
        message(estimate, estimate - 1)
    ]
    assert validate(SCHEMA, document, limit_rules(limits(estimate))) == []

    monkeypatch.setenv("HOIST_GRAPHQL_MAX_COST", str(estimate - 1))
    get_settings.cache_clear()
    try:
        result = build_schema().execute_sync(nested("2"))
    finally:
        get_settings.cache_clear()
    assert [e.message for e in result.errors or []] == [message(estimate, estimate - 1)]


def test_introspection_costs_nothing() -> None:
    """GraphiQL's introspection query lists every type's fields, arguments and values;
    graphql-core's MaxIntrospectionDepthRule bounds it, and it must always pass."""
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert document_problems(parse(query), limits(1), SCHEMA) == []


# --- Every document Hoist's own clients send passes the default limit ---------------------

# Names a CLI document interpolates from its function's arguments, with the values it is
# called with (one rendering per call).
CLI_LOCALS = {
    "decide": [
        {"kind": "String", "mutation": "approvePromotionRequests", "note": "comment"},
        {"kind": "String!", "mutation": "rejectPromotionRequests", "note": "reason"},
    ],
}
GRAPHQL_START = re.compile(r"\s*(query|mutation)\b[^{]*\{|\s*\{")
LOOKS_LIKE_GRAPHQL = re.compile(r"\s*(query|mutation)\b|\s*\{")


def dashboard_documents() -> list[tuple[str, str]]:
    """The dashboard's template literals that are GraphQL documents, their `${NAME}`s
    replaced by the named constant literals."""
    sources = {p.name: p.read_text() for p in sorted((ROOT / "app/ui/static/js").glob("*.js"))}
    constants = {
        m[1]: m[2]
        for text in sources.values()
        for m in re.finditer(r"const (\w+) = `([^`]*)`", text)
    }

    def expand(text: str) -> str:
        while (expanded := re.sub(r"\$\{(\w+)\}", lambda m: constants[m[1]], text)) != text:
            text = expanded
        return text

    return [
        (name, expand(m[1]))
        for name, text in sources.items()
        for m in re.finditer(r"`([^`]*)`", text)
        if GRAPHQL_START.match(m[1])
    ]


def cli_documents() -> list[tuple[str, str]]:
    """The CLI's string literals that are GraphQL documents, f-strings rendered with their
    module's names (and CLI_LOCALS for a function's own)."""
    documents = []
    for path in sorted((ROOT / "app/cli").glob("*.py")):
        namespace = vars(importlib.import_module(f"app.cli.{path.stem}"))
        tree = ast.parse(path.read_text())
        functions = {
            id(node): function.name
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef)
            for node in ast.walk(function)
        }
        parts = {id(p) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for p in n.values}
        for node in ast.walk(tree):
            if id(node) in parts or not isinstance(node, ast.Constant | ast.JoinedStr):
                continue
            head = node if isinstance(node, ast.Constant) else node.values[0]
            if not (isinstance(head, ast.Constant) and isinstance(head.value, str)):
                continue
            if not LOOKS_LIKE_GRAPHQL.match(head.value):
                continue
            code = compile(ast.Expression(node), str(path), "eval")
            for extra in CLI_LOCALS.get(functions.get(id(node), ""), [{}]):
                text = eval(code, {**namespace, **extra})  # the CLI's own literals
                if GRAPHQL_START.match(text) and "}" in text:
                    documents.append((f"{path.name}:{node.lineno}", text))
    return documents


def readme_documents() -> list[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text()
    return [("README.md", m) for m in re.findall(r"```graphql\n(.*?)```", readme, re.S)]


def test_every_client_document_passes_the_default_limit() -> None:
    dashboard, cli, readme = dashboard_documents(), cli_documents(), readme_documents()
    # The collectors found what is there (24 dashboard, 37 CLI, 10 README documents today).
    assert len(dashboard) >= 20 and len(cli) >= 30 and len(readme) >= 8
    limit = get_settings().graphql_max_cost
    for where, text in [*dashboard, *cli, *readme]:
        document = parse(text)
        assert validate(SCHEMA, document) == [], (where, text)
        assert document_problems(document, limits(limit), SCHEMA) == [], (where, cost(document))
