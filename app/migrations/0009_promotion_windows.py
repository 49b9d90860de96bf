from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.windows.calendar import WindowKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    """Promotion windows (issue 16): windows, the pairs they apply to; a request's break-glass
    reason and its automatic deployment waiting for a window to open."""

    dependencies = [('hoist', '0008_email_links')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PromotionWindow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=50)),
                ('description', fields.CharField(null=True, max_length=300)),
                ('kind', fields.CharEnumField(description='DENY: DENY\nALLOW: ALLOW', enum_type=WindowKind, max_length=16)),
                ('time_zone', fields.CharField(max_length=64)),
                ('rrule', fields.TextField(null=True, unique=False)),
                ('duration_seconds', fields.IntField(null=True)),
                ('starts_at', fields.CharField(null=True, max_length=32)),
                ('date_ranges', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'promotion_windows', 'app': 'hoist', 'pk_attr': 'id', 'table_description': 'A DENY window (a freeze) or an ALLOW window (the only times promotions go through).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WindowBinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('window', fields.ForeignKeyField('hoist.PromotionWindow', source_field='window_id', db_constraint=True, to_field='id', related_name='bindings', on_delete=OnDelete.CASCADE)),
                ('application', fields.ForeignKeyField('hoist.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='window_bindings', on_delete=OnDelete.CASCADE)),
                ('environment', fields.ForeignKeyField('hoist.Environment', source_field='environment_id', db_constraint=True, to_field='id', related_name='window_bindings', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'window_bindings', 'app': 'hoist', 'unique_together': (('window', 'application', 'environment'),), 'indexes': [Index(fields=['application_id', 'environment_id'])], 'pk_attr': 'id', 'table_description': 'One window applies to one (application, environment) pair (a pair may have several).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PromotionRequest',
            name='auto_deploy_waiting',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='PromotionRequest',
            name='break_glass_reason',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
