from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

# Issue 19 item 4, delivery insights: images keep their newest commit time (null for the
# images registered before: CI sent none), and the indexes the insights' range queries
# read instead of the tables (bench/insights.py). Named for the plan; 0013 is
# another branch's.

class Migration(migrations.Migration):
    dependencies = [('hoist', '0015_policy_enforcement_and_attestations')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Deployment',
            index=Index(fields=['application_id', 'created_at', 'environment_id', 'status', 'image_id', 'rollback_of_id']),
        ),
        ops.AddIndex(
            model_name='Deployment',
            index=Index(fields=['rollback_of_id']),
        ),
        ops.AddField(
            model_name='Image',
            name='newest_commit_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='PromotionDecision',
            index=Index(fields=['request_id', 'kind', 'at']),
        ),
        ops.AddIndex(
            model_name='PromotionRequest',
            index=Index(fields=['application_id', 'created_at', 'target_environment_id', 'status', 'source_environment_id', 'required_approvals']),
        ),
        ops.AddIndex(
            model_name='StageRun',
            index=Index(fields=['deployment_id', 'created_at']),
        ),
    ]
