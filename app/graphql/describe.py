"""Descriptions for the values of enums registered with `strawberry.enum(...)`.

The enums are plain StrEnums in the domains' models/kinds modules, which may not import
strawberry (the layers contract), so `strawberry.enum_value(description=...)` cannot be
written on their members. Strawberry keeps each value's description on the definition it
attaches to the class when the enum is registered; this fills those in, next to the
registration in types.py/errors.py, before the schema is built from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from strawberry.types.enum import StrawberryEnumDefinition


def describe_values(enum_cls: type[Enum], descriptions: Mapping[Enum, str]) -> None:
    """Give every member of the registered `enum_cls` its description. Raises when a member
    has none (or an empty one), or a key is not a member: a new value must be described."""
    definition = getattr(enum_cls, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryEnumDefinition):
        raise TypeError(f"{enum_cls.__name__} is not registered with strawberry.enum yet")
    members = set(enum_cls)
    strays = [repr(key) for key in descriptions if key not in members]
    missing = [m.name for m in enum_cls if not descriptions.get(m, "").strip()]
    if strays or missing:
        raise ValueError(
            f"{enum_cls.__name__}: no description for {', '.join(missing) or '-'}; "
            f"not members: {', '.join(strays) or '-'}"
        )
    for value in definition.values:
        value.description = descriptions[enum_cls(value.value)]
