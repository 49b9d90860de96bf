"""Every GraphQL block in README.md runs as pasted: one named operation, valid against the
schema. A reader copies a block into GraphiQL or curl; a block that does not validate is a
first hour lost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"^```graphql\n(.*?)^```", re.S | re.M)


def graphql_blocks(markdown: str) -> list[tuple[int, str]]:
    """(line number, text) of each ```graphql block."""
    return [(markdown.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(markdown)]


def problems_of(block: str, schema: GraphQLSchema) -> list[str]:
    """What keeps a block from running as pasted; empty when it runs."""
    try:
        document = parse(block)
    except Exception as error:  # graphql-core's GraphQLSyntaxError
        return [str(error)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    found = [str(error.message) for error in validate(schema, document)]
    if len(operations) != 1:
        found.append(f"holds {len(operations)} operations; a block holds exactly one")
    found += ["an operation has no name" for op in operations if op.name is None]
    return found


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema.graphql").read_text())


README_BLOCKS = graphql_blocks((ROOT / "README.md").read_text())


def test_the_readme_has_graphql_blocks() -> None:
    assert len(README_BLOCKS) >= 5


@pytest.mark.parametrize(("line", "block"), README_BLOCKS, ids=[str(n) for n, _ in README_BLOCKS])
def test_readme_block_runs_as_pasted(schema: GraphQLSchema, line: int, block: str) -> None:
    assert problems_of(block, schema) == [], f"README.md line {line}"


def test_the_check_refuses_what_graphiql_refuses(schema: GraphQLSchema) -> None:
    """The README's old first block: anonymous mutations together, which servers refuse."""
    two_anonymous = "mutation { a: __typename }\nmutation { b: __typename }\n"
    assert "holds 2 operations; a block holds exactly one" in problems_of(two_anonymous, schema)
    assert "an operation has no name" in problems_of("query { __typename }", schema)
    assert problems_of("query Q { noSuchField }", schema)
    assert problems_of("query Q { __typename }", schema) == []
