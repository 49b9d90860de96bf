"""Promotion windows and the (application, environment) pairs they apply to (issue 16)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from app.windows.calendar import WindowKind

if TYPE_CHECKING:
    from app.catalog.models import Application, Environment


class PromotionWindow(Model):
    """A DENY window (a freeze) or an ALLOW window (the only times promotions go through)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    description = fields.CharField(max_length=300, null=True)
    kind = fields.CharEnumField(WindowKind, max_length=16)
    # An IANA zone name: the rule's local times and the ranges are in it.
    time_zone = fields.CharField(max_length=64)
    # RFC 5545 RRULE text (FREQ=...) and how long each occurrence lasts on the local wall
    # clock; both or neither.
    rrule = fields.TextField(null=True)
    duration_seconds = fields.IntField(null=True)
    # The rule's DTSTART, local ISO date-time without zone; NULL: calendar.DEFAULT_START.
    # Text, not a datetime column: the columns are UTC and this is a wall-clock time.
    starts_at = fields.CharField(max_length=32, null=True)
    # Explicit local ranges: [{"start": ISO, "end": ISO}], end exclusive, naive local.
    date_ranges: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "promotion_windows"


class WindowBinding(Model):
    """One window applies to one (application, environment) pair (a pair may have several)."""

    id = fields.IntField(primary_key=True)
    window: fields.ForeignKeyRelation[PromotionWindow] = fields.ForeignKeyField(
        "hoist.PromotionWindow", related_name="bindings", on_delete=fields.CASCADE
    )
    window_id: int
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "hoist.Application", related_name="window_bindings", on_delete=fields.CASCADE
    )
    application_id: int
    environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="window_bindings", on_delete=fields.CASCADE
    )
    environment_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "window_bindings"
        unique_together = (("window", "application", "environment"),)
        indexes = (("application_id", "environment_id"),)
