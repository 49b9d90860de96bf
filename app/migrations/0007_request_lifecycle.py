from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

from app.migrations._operations import AlterDescription, RemoveUnique
from app.notifications.models import NotificationEvent
from app.promotions.models import PromotionStatus


class Migration(migrations.Migration):
    """A request's life (issue 16): QUEUED and EXPIRED requests, their deadline; the
    policy's time limits, reminders and break-glass count; reminder emails, numbered."""

    dependencies = [('hoist', '0006_outbox_dead_letters')]

    initial = False

    operations: list[ops.Operation] = [
        RemoveUnique(
            model_name='Notification',
            name=None,
            fields=['request', 'recipient', 'event'],
        ),
        AlterDescription(
            model_name='Notification',
            name='event',
            field=fields.CharEnumField(description='APPROVAL_REQUESTED: APPROVAL_REQUESTED\nPROMOTED: PROMOTED\nREJECTED: REJECTED\nSTALE: STALE\nREMINDER: REMINDER\nEXPIRED: EXPIRED', enum_type=NotificationEvent, max_length=32),
        ),
        ops.AddField(
            model_name='Notification',
            name='occurrence',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddConstraint(
            model_name='Notification',
            constraint=UniqueConstraint(fields=('request', 'recipient', 'event', 'occurrence'), name=None),
        ),
        ops.AddField(
            model_name='PromotionPolicy',
            name='approval_max_age_seconds',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='PromotionPolicy',
            name='break_glass_approver_count',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='PromotionPolicy',
            name='max_reminders',
            field=fields.IntField(default=2, db_default=2),
        ),
        ops.AddField(
            model_name='PromotionPolicy',
            name='remind_after_seconds',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='PromotionPolicy',
            name='request_timeout_seconds',
            field=fields.IntField(null=True),
        ),
        AlterDescription(
            model_name='PromotionRequest',
            name='status',
            field=fields.CharEnumField(description='AWAITING_APPROVAL: AWAITING_APPROVAL\nPROMOTING: PROMOTING\nPROMOTED: PROMOTED\nCANCELLED: CANCELLED\nREJECTED: REJECTED\nSTALE: STALE\nQUEUED: QUEUED\nEXPIRED: EXPIRED', enum_type=PromotionStatus, max_length=32),
        ),
        ops.AddField(
            model_name='PromotionRequest',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='PromotionRequest',
            name='reminders_sent',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='PromotionRequest',
            name='next_reminder_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='PromotionRequest',
            index=Index(fields=['status', 'expires_at']),
        ),
        ops.AddIndex(
            model_name='PromotionRequest',
            index=Index(fields=['status', 'next_reminder_at']),
        ),
    ]
