from tortoise import migrations
from tortoise.migrations import operations as ops
from app.deployments.models import DeploymentStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('hoist', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Deployment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('hoist.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='deployments', on_delete=OnDelete.CASCADE)),
                ('environment', fields.ForeignKeyField('hoist.Environment', source_field='environment_id', db_constraint=True, to_field='id', related_name='deployments', on_delete=OnDelete.RESTRICT)),
                ('image', fields.ForeignKeyField('hoist.Image', source_field='image_id', db_constraint=True, to_field='id', related_name='deployments', on_delete=OnDelete.CASCADE)),
                ('deployed_by', fields.ForeignKeyField('hoist.User', source_field='deployed_by_id', null=True, db_constraint=True, to_field='id', related_name='deployments', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=DeploymentStatus.QUEUED, description='QUEUED: QUEUED\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=DeploymentStatus, max_length=16)),
                ('promotion_request', fields.ForeignKeyField('hoist.PromotionRequest', source_field='promotion_request_id', null=True, db_constraint=True, to_field='id', related_name='deployments', on_delete=OnDelete.SET_NULL)),
                ('error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'deployments', 'app': 'hoist', 'indexes': [Index(fields=['application_id', 'environment_id', 'id']), Index(fields=['image_id', 'environment_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeploymentApproval',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('image', fields.ForeignKeyField('hoist.Image', source_field='image_id', db_constraint=True, to_field='id', related_name='deployment_approvals', on_delete=OnDelete.CASCADE)),
                ('environment', fields.ForeignKeyField('hoist.Environment', source_field='environment_id', db_constraint=True, to_field='id', related_name='deployment_approvals', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('hoist.User', source_field='user_id', db_constraint=True, to_field='id', related_name='deployment_approvals', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'deployment_approvals', 'app': 'hoist', 'unique_together': (('image', 'environment', 'user'),), 'pk_attr': 'id', 'table_description': "One user's Image Deployment Approval of an image for an environment."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PromotionRequest',
            name='auto_deploy_blocked_reason',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='StageRun',
            name='deployment',
            field=fields.ForeignKeyField('hoist.Deployment', source_field='deployment_id', null=True, db_constraint=True, to_field='id', related_name='stage_runs', on_delete=OnDelete.SET_NULL),
        ),
    ]
