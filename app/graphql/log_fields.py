"""What a GraphQL request's log lines say about it: the operation's name and the caller."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app.observability import logs, tracing

# GraphQL names are [_A-Za-z][_0-9A-Za-z]*, but a document may make one as long as it likes.
MAX_OPERATION_NAME = 100


def _bounded(name: str | None) -> str | None:
    return name[:MAX_OPERATION_NAME] if name else None


class LogFields(SchemaExtension):
    """Adds `operation` and `user_id` (the caller's id, never their email) to the request's
    log scope (app/observability/logs.py), and to its span when tracing is on."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        user = getattr(context, "user", None)
        user_id = getattr(user, "id", None)
        # The name the client gave, if any; the document's once it is parsed (on_execute).
        operation = _bounded(self.execution_context.operation_name)
        logs.bind(user_id=user_id, operation=operation)
        tracing.set_attributes(user_id=user_id)
        yield

    def on_execute(self) -> Iterator[None]:
        operation = _bounded(self.execution_context.operation_name)
        if operation is not None:
            logs.bind(operation=operation)
        yield
