from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('hoist', '0012_rollback_notifications')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxJob',
            name='traceparent',
            field=fields.CharField(null=True, max_length=55),
        ),
        ops.AddField(
            model_name='OutboxJob',
            name='tracestate',
            field=fields.CharField(null=True, max_length=512),
        ),
    ]
