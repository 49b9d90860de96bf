"""What one GraphQL document may cost: depth, aliases, fragments, expanded size (SPEC §8).

Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at every
spread, so a short document whose fragments each spread the next one twice costs 2^n
in the limiters themselves, on the event loop (issue 11: 840 bytes froze the server for
22 s). Here every fragment is measured once, after the fragments it spreads, and a spread
adds the stored figures: the cost is linear in the document's length whatever it expands
to. The expanded figures themselves (fields, aliases) are bounded too, so a document that
is short but stands for billions of fields is refused before anything runs it.

The rule classes are built once per schema (`limit_rules`), so Strawberry's
ValidationCache sees the same rules on every request and can hit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions import ParserCache, ValidationCache

# Documents longer than this are parsed and validated afresh each time: each cache keeps
# 128 documents, and 128 distinct megabyte-long ones must not stay in memory.
CACHEABLE_QUERY_CHARS = 20_000


@dataclass(frozen=True)
class DocumentLimits:
    """The bounds of one document; app/settings.py holds the configured values."""

    max_depth: int
    max_aliases: int
    max_fragments: int  # fragment definitions, and separately fragment spreads
    max_selections: int  # fields once every fragment spread is expanded


@dataclass(frozen=True)
class Cost:
    """Depth, aliases and fields of a selection set with its fragments expanded."""

    depth: int = 0
    aliases: int = 0
    selections: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(max(self.depth, other.depth), self.aliases + other.aliases,
                    self.selections + other.selections)


NOTHING = Cost()


def _selection_sets(root: SelectionSetNode) -> Iterator[SelectionSetNode]:
    """Every selection set nested in `root`, not following spreads (no recursion: the
    parser allows 200 levels, and this runs for every request)."""
    stack = [root]
    while stack:
        selection_set = stack.pop()
        yield selection_set
        for selection in selection_set.selections:
            nested = getattr(selection, "selection_set", None)
            if nested is not None:
                stack.append(nested)


def _spreads(root: SelectionSetNode) -> list[str]:
    return [selection.name.value for selection_set in _selection_sets(root)
            for selection in selection_set.selections
            if isinstance(selection, FragmentSpreadNode)]


def _measure(selection_set: SelectionSetNode, fragments: dict[str, Cost]) -> Cost:
    """The cost of `selection_set`, a spread counting its fragment's measured cost.

    Depth counts the fields that have a selection set, as Strawberry's limiter did;
    introspection fields (`__schema`, `__type`) are not counted or descended for depth
    (graphql-core's MaxIntrospectionDepthRule bounds those), but their fields count.
    A spread of a fragment not measured (unknown, or part of a cycle) counts nothing:
    the standard rules refuse such documents anyway.
    """
    total = NOTHING
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = (_measure(selection.selection_set, fragments)
                     if selection.selection_set else NOTHING)
            depth = 0
            if selection.selection_set and not selection.name.value.startswith("__"):
                depth = 1 + inner.depth
            total += Cost(depth, inner.aliases + (1 if selection.alias else 0),
                          inner.selections + 1)
        elif isinstance(selection, InlineFragmentNode):
            total += _measure(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            total += fragments.get(selection.name.value, NOTHING)
    return total


def _fragment_order(definitions: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after every fragment it spreads (a cycle is cut where it
    closes). An explicit stack: a chain of fragments must not hit the recursion limit."""
    spreads = {name: _spreads(fragment.selection_set) for name, fragment in definitions.items()}
    order: list[str] = []
    seen: set[str] = set()
    for root in definitions:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(spreads[root]))]
        while stack:
            name, children = stack[-1]
            for child in children:
                if child in definitions and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(spreads[child])))
                    break
            else:
                stack.pop()
                order.append(name)
    return order


def document_problems(document: DocumentNode, limits: DocumentLimits) -> list[str]:
    """Why `document` is too costly to run, in words for its author; [] when it is not."""
    fragment_nodes = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(fragment_nodes) > limits.max_fragments:
        return [f"The document defines {len(fragment_nodes)} fragments; at most "
                f"{limits.max_fragments} are allowed."]
    spreads = sum(len(_spreads(d.selection_set)) for d in (*fragment_nodes, *operations))
    if spreads > limits.max_fragments:
        return [f"The document has {spreads} fragment spreads; at most "
                f"{limits.max_fragments} are allowed."]

    definitions = {d.name.value: d for d in fragment_nodes}
    costs: dict[str, Cost] = {}
    for name in _fragment_order(definitions):
        costs[name] = _measure(definitions[name].selection_set, costs)

    problems: list[str] = []
    total = NOTHING
    for operation in operations:
        cost = _measure(operation.selection_set, costs)
        total += cost
        if cost.depth > limits.max_depth:
            name = operation.name.value if operation.name else "anonymous"
            problems.append(f"'{name}' is {cost.depth} levels deep: it exceeds the maximum "
                            f"query depth of {limits.max_depth}.")
    if total.aliases > limits.max_aliases:
        problems.append(f"{_count(total.aliases, limits.max_aliases)} aliases found "
                        f"(fragments counted at each spread); at most {limits.max_aliases} "
                        "are allowed.")
    if total.selections > limits.max_selections:
        problems.append(f"The document selects {_count(total.selections, limits.max_selections)}"
                        f" fields once its fragments are expanded; at most "
                        f"{limits.max_selections} are allowed.")
    return problems


def _count(value: int, limit: int) -> str:
    """A count for a message: a fragment bomb's 2^400 is "more than 50000", not 121 digits."""
    return str(value) if value <= 10 * limit else f"more than {10 * limit}"


def limit_rules(limits: DocumentLimits) -> list[type[ASTValidationRule]]:
    """The validation rule enforcing `limits`: build it once and keep it (see module doc)."""

    class DocumentCostRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
            for problem in document_problems(node, limits):
                self.report_error(GraphQLError(problem))
            return BREAK  # everything was measured from the document node

    return [DocumentCostRule]


class BoundedParserCache(ParserCache):
    """ParserCache for documents up to CACHEABLE_QUERY_CHARS long."""

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > CACHEABLE_QUERY_CHARS:
            yield  # Strawberry parses it itself
        else:
            yield from super().on_parse()


class BoundedValidationCache(ValidationCache):
    """ValidationCache for documents up to CACHEABLE_QUERY_CHARS long."""

    def on_validate(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > CACHEABLE_QUERY_CHARS:
            yield  # Strawberry validates it itself
        else:
            yield from super().on_validate()
