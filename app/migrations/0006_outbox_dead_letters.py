from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.migrations._operations import AlterDescription
from app.notifications.models import NotificationState


class Migration(migrations.Migration):
    """Outbox job attempts and a dead state; email delivery states (issue 11, items 9, 12)."""

    dependencies = [('hoist', '0005_builder_identity')]

    initial = False

    operations: list[ops.Operation] = [
        AlterDescription(
            model_name='Notification',
            name='state',
            field=fields.CharEnumField(default=NotificationState.PENDING, description='PENDING: PENDING\nSENT: SENT\nFAILED: FAILED\nUNKNOWN: UNKNOWN', enum_type=NotificationState, max_length=16),
        ),
        ops.AddField(
            model_name='Notification',
            name='unreachable_tries',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='OutboxJob',
            name='attempts',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='OutboxJob',
            name='dead_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OutboxJob',
            name='retry_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='OutboxJob',
            index=Index(fields=['dead_at']),
        ),
        # Emails a dead worker left in doubt were FAILED with this text; they are UNKNOWN now.
        ops.RunSQL(
            "UPDATE notifications SET state = 'UNKNOWN' WHERE state = 'FAILED' "
            "AND error LIKE 'the worker sending this email stopped%'",
            reverse_sql="UPDATE notifications SET state = 'FAILED' WHERE state = 'UNKNOWN'",
        ),
        # The webhook executor kept 200 characters of the receiver's answer, which VIEWERs
        # read in deploymentHistory: keep only "webhook failed: HTTP <code>".
        ops.RunSQL(
            "UPDATE deployments SET error = substr(error, 1, 24) "
            "WHERE error LIKE 'webhook failed: HTTP ___: %'",
            reverse_sql="SELECT 1",
        ),
    ]
