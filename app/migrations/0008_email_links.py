from tortoise import migrations
from tortoise.migrations import operations as ops
from app.notifications.models import LinkAction
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    """Approve or reject from the email (issue 16): the key that signs the links when
    HOIST_SECRET_KEY is unset, and the links used (each works once)."""

    dependencies = [('hoist', '0007_request_lifecycle')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailLinkKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=32)),
                ('key', fields.CharField(max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'email_link_keys', 'app': 'hoist', 'pk_attr': 'id', 'table_description': 'The key that signs email links when HOIST_SECRET_KEY is unset: made at random by the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailLinkUse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('hoist.PromotionRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='email_link_uses', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('hoist.User', source_field='user_id', db_constraint=True, to_field='id', related_name='email_link_uses', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharEnumField(description='APPROVE: approve\nREJECT: reject', enum_type=LinkAction, max_length=16)),
                ('used_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_link_uses', 'app': 'hoist', 'unique_together': (('request', 'user', 'action'),), 'pk_attr': 'id', 'table_description': 'An email link that was used: written in the transaction of the decision it made, so a'},
            bases=['Model'],
        ),
    ]
