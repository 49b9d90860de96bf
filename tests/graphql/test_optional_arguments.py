"""Every nullable argument may be left out: its resolver has a default for it.

GraphQL lets a client leave out any nullable argument; Strawberry then does not pass it,
and a resolver parameter without a default crashes with a TypeError (a masked "Internal
error"). The fuzz tests found one (setGitTarget's gitTarget); this keeps there being none.
"""

from __future__ import annotations

import inspect
from typing import Any

from strawberry.types.base import StrawberryOptional, get_object_definition

from app.graphql.schema import schema


def _unwrapped(type_: Any) -> Any:
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_


def _nullable_arguments() -> dict[str, bool]:
    """Each nullable argument of a resolver: whether the resolver has a default for it."""
    found: dict[str, bool] = {}
    seen: set[str] = set()
    pending = [t for t in (schema.query, schema.mutation, schema.subscription) if t]
    while pending:
        definition = get_object_definition(pending.pop())
        if definition is None or definition.name in seen:
            continue
        seen.add(definition.name)
        for field in definition.fields:
            pending.append(_unwrapped(field.type))
            if field.base_resolver is None:
                continue
            parameters = inspect.signature(field.base_resolver.wrapped_func).parameters
            for argument in field.arguments:
                parameter = parameters.get(argument.python_name)
                if isinstance(argument.type, StrawberryOptional) and parameter is not None:
                    name = f"{definition.name}.{field.name}({argument.python_name})"
                    found[name] = parameter.default is not inspect.Parameter.empty
    return found


def test_every_nullable_argument_has_a_default_in_its_resolver() -> None:
    arguments = _nullable_arguments()
    # The walk reaches the queries', mutations' and subscriptions' arguments.
    assert {
        "Mutation.set_git_target(git_target)",
        "Query.delivery_insights(environment)",
        "Subscription.deployment_changed(environment)",
    } <= arguments.keys(), sorted(arguments)
    assert [name for name, has_default in arguments.items() if not has_default] == []
