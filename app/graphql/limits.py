"""What one GraphQL document may cost: depth, aliases, fragments, expanded size (SPEC §8).

Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at every
spread, so a short document whose fragments each spread the next one twice costs 2^n
in the limiters themselves, on the event loop (issue 11: 840 bytes froze the server for
22 s). Here every fragment is measured once, after the fragments it spreads, and a spread
adds the stored figures: the cost is linear in the document's length whatever it expands
to. The expanded figures themselves (fields, aliases) are bounded too, so a document that
is short but stands for billions of fields is refused before anything runs it, and so is
one whose lists multiply into too large an answer (app/graphql/cost.py). So is one
field selected over and over at one level, which graphql-core's overlap check compares
pairwise; and a refused document stops the validation at once, before the standard rules
(the slow ones on such documents) look at a single selection set.

The rule classes are built once per schema (`limit_rules`), so Strawberry's
ValidationCache sees the same rules on every request and can hit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from graphql.validation import ASTValidationRule
from graphql.validation.rules import overlapping_fields_can_be_merged
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import ParserCache, ValidationCache

from app.graphql.cost import LIST_ITEMS, Estimator
from app.limits import MAX_PAGE

# graphql-core meters the overlap check's pairwise comparisons and aborts the validation
# ("Validation aborted.") when the budget runs out. Its default, 500,000 units, is about
# 0.2 s of event loop on this kind of machine; Hoist's own clients (the dashboard, GraphiQL's
# introspection) spend nearly none, and 50 `me` fields of 10 subfields each spend 10,000.
# The module documents assigning this attribute as the way to set it.
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = 50_000

# Documents longer than this are parsed and validated afresh each time: each cache keeps
# 128 documents, and 128 distinct megabyte-long ones must not stay in memory.
CACHEABLE_QUERY_CHARS = 20_000


# One response name selected this many times in one selection set (inline fragments and
# spreads merged into it, as graphql-core's OverlappingFieldsCanBeMergedRule merges them)
# is no real client's query; that rule compares such fields pairwise, so 1,240 times
# `me { email }` (5,000 tokens) held the event loop for seconds under load before
# graphql-core's own comparison budget gave up.
MAX_REPEATS = 50


@dataclass(frozen=True)
class DocumentLimits:
    """The bounds of one document; app/settings.py holds the configured values."""

    max_depth: int
    max_aliases: int
    max_fragments: int  # fragment definitions, and separately fragment spreads
    max_selections: int  # fields once every fragment spread is expanded
    max_repeats: int = MAX_REPEATS  # one response name in one selection set
    max_cost: int = field(kw_only=True)  # an operation's estimate (app/graphql/cost.py)


@dataclass(frozen=True)
class Cost:
    """Depth, aliases and fields of a selection set with its fragments expanded; the
    response names of its own level with how often each is selected there, and the most
    selected name of any level within it (count, name)."""

    depth: int = 0
    aliases: int = 0
    selections: int = 0
    names: Mapping[str, int] = field(default_factory=dict)
    repeated: tuple[int, str] = (0, "")


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
    return [
        selection.name.value
        for selection_set in _selection_sets(root)
        for selection in selection_set.selections
        if isinstance(selection, FragmentSpreadNode)
    ]


def _measure(selection_set: SelectionSetNode, fragments: dict[str, Cost]) -> Cost:
    """The cost of `selection_set`, a spread counting its fragment's measured cost.

    Depth counts the fields that have a selection set, as Strawberry's limiter did;
    introspection fields (`__schema`, `__type`) are not counted or descended for depth
    (graphql-core's MaxIntrospectionDepthRule bounds those), but their fields count.
    A spread of a fragment not measured (unknown, or part of a cycle) counts nothing:
    the standard rules refuse such documents anyway.
    """
    depth = aliases = selections = 0
    names: Counter[str] = Counter()
    repeated = (0, "")
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = (
                _measure(selection.selection_set, fragments) if selection.selection_set else NOTHING
            )
            if selection.selection_set and not selection.name.value.startswith("__"):
                depth = max(depth, 1 + inner.depth)
            aliases += inner.aliases + (1 if selection.alias else 0)
            selections += inner.selections + 1
            names[(selection.alias or selection.name).value] += 1
        else:  # an inline fragment or a spread: its fields join this level
            inner = (
                _measure(selection.selection_set, fragments)
                if isinstance(selection, InlineFragmentNode)
                else fragments.get(cast(FragmentSpreadNode, selection).name.value, NOTHING)
            )
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            selections += inner.selections
            names.update(inner.names)
        repeated = max(repeated, inner.repeated)
    if names:
        name, count = names.most_common(1)[0]
        repeated = max(repeated, (count, name))
    return Cost(depth, aliases, selections, names, repeated)


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


def document_problems(
    document: DocumentNode, limits: DocumentLimits, schema: GraphQLSchema
) -> list[str]:
    """Why `document` is too costly to run against `schema`, in words for its author; []
    when it is not."""
    fragment_nodes = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(fragment_nodes) > limits.max_fragments:
        return [
            f"The document defines {len(fragment_nodes)} fragments; at most "
            f"{limits.max_fragments} are allowed."
        ]
    spreads = sum(len(_spreads(d.selection_set)) for d in (*fragment_nodes, *operations))
    if spreads > limits.max_fragments:
        return [
            f"The document has {spreads} fragment spreads; at most "
            f"{limits.max_fragments} are allowed."
        ]

    definitions = {d.name.value: d for d in fragment_nodes}
    costs: dict[str, Cost] = {}
    order = _fragment_order(definitions)
    for name in order:
        costs[name] = _measure(definitions[name].selection_set, costs)
    estimator = Estimator(schema, definitions, order)

    problems: list[str] = []
    aliases = selections = 0
    repeated = (0, "")
    for operation in operations:
        cost = _measure(operation.selection_set, costs)
        aliases, selections = aliases + cost.aliases, selections + cost.selections
        repeated = max(repeated, cost.repeated)
        name = operation.name.value if operation.name else "anonymous"
        if cost.depth > limits.max_depth:
            problems.append(
                f"'{name}' is {cost.depth} levels deep: it exceeds the maximum "
                f"query depth of {limits.max_depth}."
            )
        estimate = estimator.operation(operation)
        if estimate > limits.max_cost:
            problems.append(
                f"'{name}' has an estimated cost of {_count(estimate, limits.max_cost)}, "
                f"above the limit of {limits.max_cost}: each list multiplies the cost of "
                f"what it selects by its page size (`first`; {MAX_PAGE} when `first` is a "
                f"variable, {LIST_ITEMS} for a list without `first`). Ask for smaller "
                "pages or fewer nested lists."
            )
    if aliases > limits.max_aliases:
        problems.append(
            f"{_count(aliases, limits.max_aliases)} aliases found "
            f"(fragments counted at each spread); at most {limits.max_aliases} "
            "are allowed."
        )
    if selections > limits.max_selections:
        problems.append(
            f"The document selects {_count(selections, limits.max_selections)}"
            f" fields once its fragments are expanded; at most "
            f"{limits.max_selections} are allowed."
        )
    count, name = repeated
    if count > limits.max_repeats:
        problems.append(
            f"'{name}' is selected {_count(count, limits.max_repeats)} times in one "
            f"selection set (fragments included); at most {limits.max_repeats} "
            "are allowed."
        )
    return problems


def _count(value: int, limit: int) -> str:
    """A count for a message: a fragment bomb's 2^400 is "more than 50000", not 121 digits."""
    return str(value) if value <= 10 * limit else f"more than {10 * limit}"


def limit_rules(limits: DocumentLimits) -> list[type[ASTValidationRule]]:
    """The validation rule enforcing `limits`: build it once and keep it (see module doc)."""

    class DocumentCostRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
            problems = document_problems(node, limits, self.context.schema)
            if problems:
                for problem in problems[:-1]:
                    self.report_error(GraphQLError(problem))
                # Stop the whole validation here, before any selection set is entered: a
                # document over the limits is exactly what the standard rules are slow on
                # (graphql-core keeps the errors and this last one).
                raise ValidationAbortedError(problems[-1])
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
