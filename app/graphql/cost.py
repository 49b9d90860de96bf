"""A document's static cost estimate: page sizes multiplied through nested lists (issue 14).

Every field costs 1 for each time it can appear in the answer: a list multiplies what it
selects by how many items it may hold. A connection's lists (its `edges`) hold `first`
items: the literal (a number outside 1-100 is refused when the field runs, so it is costed
as the nearest bound), `MAX_PAGE` for a variable (its value is unknown when the document is
validated, and validations are cached across variables, so the largest page it may ask
for), and the argument's default when `first` is absent. A list that takes no `first`
counts `LIST_ITEMS` items. Introspection fields (`__schema`, `__typename`) and what they
select cost nothing: graphql-core's MaxIntrospectionDepthRule bounds those, and GraphiQL's
introspection query must always pass.

A selection set's estimate is linear in the page of the connection that owns it (only its
lists take that page), so it is kept as a pair (fixed, per item) and a fragment, typed by
its type condition, is estimated once: a spread adds the stored pair, and the work stays
linear in the document's length whatever the fragments expand to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from app.graphql.pagination import DEFAULT_PAGE
from app.limits import MAX_PAGE

# Items a list without `first` is taken to hold. Those lists are a record's own small sets:
# an application's workflows, a workflow's pipelines (its environments), a request's
# approvals, a user's roles, a payload's errors, which hold a handful. At 4, six such
# lists nested in one another (a 12-level chain through policies and their bindings) stay
# under the default limit; at 10 that chain costs about 200,000, and nearly any document
# deep enough to meet the depth limit would be refused for its cost first. Connections
# (up to 100 a page) are what the estimate is chiefly for.
LIST_ITEMS = 4


@dataclass(frozen=True)
class Estimate:
    """A selection set's cost: `fixed`, plus `per_item` for each item of the connection
    page it is the selection of (the summed cost of its lists' items)."""

    fixed: int = 0
    per_item: int = 0

    def at(self, items: int) -> int:
        return self.fixed + self.per_item * items

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.fixed + other.fixed, self.per_item + other.per_item)


FREE = Estimate()


def page_size(node: FieldNode, field: GraphQLField) -> int | None:
    """The items `node` asks for with `first`; None when the field takes no `first`."""
    if "first" not in field.args:
        return None
    value = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
    if value is None:  # absent: the schema's default
        default = field.args["first"].default_value
        return default if isinstance(default, int) else DEFAULT_PAGE
    if isinstance(value, NullValueNode):  # the resolver's own default
        return DEFAULT_PAGE
    if isinstance(value, IntValueNode):
        return min(max(int(value.value), 1), MAX_PAGE)
    return MAX_PAGE  # a variable (or a value the standard rules refuse)


class Estimator:
    """Estimates the operations of one document against `schema`, fragments memoised."""

    def __init__(
        self,
        schema: GraphQLSchema,
        definitions: Mapping[str, FragmentDefinitionNode],
        order: list[str],
    ) -> None:
        """`order` lists the fragments each after those it spreads (limits._fragment_order);
        a spread of a fragment not estimated before it (unknown, or in a cycle) costs
        nothing: the standard rules refuse such documents anyway."""
        self.schema = schema
        self.fragments: dict[str, Estimate] = {}
        for name in order:
            fragment = definitions[name]
            on = schema.get_type(fragment.type_condition.name.value)
            self.fragments[name] = self.selection_set(fragment.selection_set, on)

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self.selection_set(operation.selection_set, root).at(LIST_ITEMS)

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Estimate:
        total = FREE
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                on = selection.type_condition
                inner = self.schema.get_type(on.name.value) if on else parent
                total += self.selection_set(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragments.get(selection.name.value, FREE)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Estimate:
        if node.name.value.startswith("__"):
            return FREE
        fields = (
            parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        )
        # An unknown field (the standard rules refuse it) costs 1 per field it selects.
        definition = fields.get(node.name.value)
        page = page_size(node, definition) if definition else None
        is_list = definition is not None and is_list_type(get_nullable_type(definition.type))
        inner = (
            self.selection_set(
                node.selection_set, get_named_type(definition.type) if definition else None
            )
            if node.selection_set
            else FREE
        )
        # A connection's page reaches the lists it holds; any other list's own lists
        # count LIST_ITEMS items each.
        items = inner.at(page if page is not None and not is_list else LIST_ITEMS)
        if not is_list:
            return Estimate(1 + items)
        if page is not None:  # a plain list that takes `first` itself
            return Estimate(1 + page * items)
        # Items of the enclosing connection's page, or LIST_ITEMS (resolved by its owner).
        return Estimate(1, items)
