from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('hoist', '0003_notifications')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='PromotionDecision',
            index=Index(fields=['user_id', 'kind', 'request_id']),
        ),
    ]
