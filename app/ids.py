"""Global object ids: one opaque id per object across every type (Relay's Node ids).

An object's id is base64 of "<GraphQL type name>:<row id>", Strawberry's relay format
(strawberry.relay.GlobalID), so "1" is no longer an application, an environment, an
image and a user at once, and a client's normalised cache may key objects by id alone.
Clients must treat ids as opaque; the format is written down only so that the server's
parts (the GraphQL types, services taking ids from clients, links in emails) agree.
"""

from __future__ import annotations

import base64
import binascii

from app.limits import ID as MAX_ID_CHARS
from app.validation import MAX_ROW_ID


def global_id(type_name: str, row_id: int) -> str:
    """The id clients see for row `row_id` of the GraphQL type `type_name`."""
    # The services and the emails name objects too, and they stay free of GraphQL
    # (the import contracts): so the format is written here, and a test checks it
    # against strawberry.relay.GlobalID's.
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def decode(value: str) -> tuple[str, int] | None:
    """(type name, row id) of an id this server gave out; None for anything else."""
    if len(value) > MAX_ID_CHARS:
        return None
    try:
        text = base64.b64decode(value.encode("ascii"), validate=True).decode("ascii")
    except (UnicodeError, binascii.Error):
        return None
    type_name, _, number = text.partition(":")
    # isdigit alone would take "²" or "٣"; the text is ASCII by now.
    if not type_name or not number.isdigit() or len(number) > 10:
        return None
    row_id = int(number)
    return (type_name, row_id) if 1 <= row_id <= MAX_ROW_ID else None


def row_id(value: str, type_name: str) -> int | None:
    """The row id in `value` when it is an id of a `type_name` object; None otherwise
    (another type's id, a forged one, a bare number): all mean "no such object"."""
    decoded = decode(value)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]
