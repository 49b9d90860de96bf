from tortoise import migrations
from tortoise.migrations import operations as ops
from app.notifications.models import NotificationEvent, NotificationState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('hoist', '0002_deployments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('hoist.PromotionRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL)),
                ('event', fields.CharEnumField(description='APPROVAL_REQUESTED: APPROVAL_REQUESTED\nPROMOTED: PROMOTED\nREJECTED: REJECTED\nSTALE: STALE', enum_type=NotificationEvent, max_length=32)),
                ('recipient', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=400)),
                ('text_body', fields.TextField(unique=False)),
                ('html_body', fields.TextField(unique=False)),
                ('state', fields.CharEnumField(default=NotificationState.PENDING, description='PENDING: PENDING\nSENT: SENT\nFAILED: FAILED', enum_type=NotificationState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('error', fields.TextField(null=True, unique=False)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=32)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notifications', 'app': 'hoist', 'unique_together': (('request', 'recipient', 'event'),), 'indexes': [Index(fields=['state', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One email. Rendered when the event happens, so it tells what was true then.'},
            bases=['Model'],
        ),
    ]
