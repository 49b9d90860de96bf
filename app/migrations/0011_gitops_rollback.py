from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('hoist', '0010_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CdPipeline',
            name='git_target',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Deployment',
            name='commit_repository',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Deployment',
            name='commit_sha',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Deployment',
            name='rollback_of',
            field=fields.ForeignKeyField('hoist.Deployment', source_field='rollback_of_id', null=True, db_constraint=True, to_field='id', related_name='rollbacks', on_delete=OnDelete.SET_NULL),
        ),
    ]
