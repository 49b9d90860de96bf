"""Row ids out of the global ids the API answers with (app/ids.py), for tests."""

from __future__ import annotations

from app.ids import row_id


def row(value: str, type_name: str) -> int:
    """The row id inside `value`; the test fails when it is no `type_name` id, since every
    id the API gives out must be its object's global id."""
    found = row_id(value, type_name)
    assert found is not None, f"{value!r} is not the id of a {type_name}"
    return found
