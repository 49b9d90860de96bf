"""GraphQL operations in hoist_graphql_operations_total and their latency.

The `operation` label is the name of the schema's root field the operation selects
(`promoteImage`, `promotionRequests`), never the client's own operation name: that is
free text, and each new one would be a new series. An operation selecting several root
fields is `multiple`, one selecting only `__schema`/`__typename` is `introspection`, and
one that never parsed (or names no field of the schema) is `other`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql import (
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult, PreExecutionError

from app.observability import metrics

INTROSPECTION, MULTIPLE, OTHER = "introspection", "multiple", "other"
SUCCESS, ERROR, INVALID = "success", "error", "invalid"


def root_fields(operation: OperationDefinitionNode) -> set[str] | None:
    """Names of the operation's root fields; None when a fragment stands at the root."""
    names = set()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        names.add(selection.name.value)
    return names


def operation_label(operation: OperationDefinitionNode | None, known: set[str]) -> str:
    """The bounded `operation` label (see the module's docstring)."""
    fields = root_fields(operation) if operation is not None else None
    if not fields:
        return OTHER
    own = {name for name in fields if not name.startswith("__")}
    if not own:
        return INTROSPECTION
    if len(own) > 1:
        return MULTIPLE
    [name] = own
    return name if name in known else OTHER


class OperationMetrics(SchemaExtension):
    """Counts and times each query and mutation by root field and result. Subscriptions are
    left out: their operation lasts as long as the subscriber stays (/healthz counts them)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            # Also when an error passes through (a document that does not parse, raised by
            # the parser cache): the operation is counted whatever became of it.
            self._record(time.perf_counter() - started)

    def _record(self, seconds: float) -> None:
        context = self.execution_context
        document = context.graphql_document
        operation = (
            get_operation_ast(document, context.operation_name) if document is not None else None
        )
        if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
            return
        known: set[str] = set()
        if operation is not None:
            root = context.schema._schema.get_root_type(operation.operation)
            known = set(root.fields) if root is not None else set()
        label = operation_label(operation, known)
        result = result_label(context.result, parsed=document is not None)
        metrics.GRAPHQL_OPERATIONS.labels(label, result).inc()
        metrics.GRAPHQL_DURATION.labels(label).observe(seconds)


def result_label(result: object, *, parsed: bool) -> str:
    """invalid: refused before it ran (parse, validation, limits); error: it ran and a
    top-level error came back (authentication, a crash; payload errors are data)."""
    if isinstance(result, PreExecutionError) or (result is None and not parsed):
        return INVALID
    if isinstance(result, ExecutionResult | GraphQLExecutionResult) and not result.errors:
        return SUCCESS
    return ERROR
