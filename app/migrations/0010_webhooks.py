from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.webhooks.models import DeliveryState, WebhookFormat
from app.notifications.models import NotificationEvent
from app.migrations._operations import AlterDescription
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('hoist', '0009_promotion_windows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=50)),
                ('url', fields.CharField(max_length=2000)),
                ('format', fields.CharEnumField(default=WebhookFormat.CLOUDEVENTS, description='CLOUDEVENTS: CLOUDEVENTS\nSLACK: SLACK\nTEAMS: TEAMS', enum_type=WebhookFormat, max_length=16)),
                ('secret', fields.CharField(max_length=200)),
                ('event_types', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('applications', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('disabled_reason', fields.CharField(null=True, max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'webhook_endpoints', 'app': 'hoist', 'pk_attr': 'id', 'table_description': 'Where a super-admin wants events POSTed, and which of them.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('hoist.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('audit_event_id', fields.IntField()),
                ('event_id', fields.CharField(max_length=64)),
                ('event_type', fields.CharField(max_length=100)),
                ('body', fields.TextField(unique=False)),
                ('content_type', fields.CharField(default='application/cloudevents+json', max_length=64)),
                ('state', fields.CharEnumField(default=DeliveryState.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED', enum_type=DeliveryState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status', fields.IntField(null=True)),
                ('last_response', fields.CharField(null=True, max_length=500)),
                ('last_error', fields.CharField(null=True, max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_deliveries', 'app': 'hoist', 'unique_together': (('endpoint', 'audit_event_id'),), 'indexes': [Index(fields=['state', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One event for one endpoint. The body is rendered when the event is fanned out, so it'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='published_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        AlterDescription(
            model_name='Notification',
            name='event',
            field=fields.CharEnumField(description='APPROVAL_REQUESTED: APPROVAL_REQUESTED\nPROMOTED: PROMOTED\nREJECTED: REJECTED\nSTALE: STALE\nREMINDER: REMINDER\nEXPIRED: EXPIRED\nWEBHOOK_DISABLED: WEBHOOK_DISABLED', enum_type=NotificationEvent, max_length=32),
        ),
        # The history before webhooks existed is not sent to the first endpoint registered.
        ops.RunSQL(
            "UPDATE audit_events SET published_at = CURRENT_TIMESTAMP WHERE published_at IS NULL",
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
