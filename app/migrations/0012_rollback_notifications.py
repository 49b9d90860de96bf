from tortoise import migrations
from app.notifications.models import NotificationEvent
from app.migrations._operations import AlterDescription
from tortoise import fields

# Issue 18: a rollback's email (NotificationEvent.ROLLED_BACK); only the enum's
# description changes, the column (VARCHAR(32)) holds the new value already.


class Migration(migrations.Migration):
    dependencies = [('hoist', '0011_gitops_rollback')]

    initial = False

    operations = [
        AlterDescription(
            model_name='Notification',
            name='event',
            field=fields.CharEnumField(description='APPROVAL_REQUESTED: APPROVAL_REQUESTED\nPROMOTED: PROMOTED\nREJECTED: REJECTED\nSTALE: STALE\nREMINDER: REMINDER\nEXPIRED: EXPIRED\nWEBHOOK_DISABLED: WEBHOOK_DISABLED\nROLLED_BACK: ROLLED_BACK', enum_type=NotificationEvent, max_length=32),
        ),
    ]
