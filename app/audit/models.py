"""The audit log: every state change with actor, time and data (SPEC §8)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from app.accounts.models import User


class AuditEvent(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="audit_events", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    action = fields.CharField(max_length=64, db_index=True)
    application = fields.CharField(max_length=50, null=True, db_index=True)
    environment = fields.CharField(max_length=50, null=True)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    # When the event was handed to the webhooks' fan-out (app/webhooks/fanout.py); NULL:
    # not yet. The log is the one record of what happened, so webhooks tell exactly it,
    # and a state change costs the request nothing more than its audit INSERT.
    published_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "audit_events"
