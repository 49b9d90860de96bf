from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.policies.models import Enforcement
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('hoist', '0014_supply_chain_evidence')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PromotionAttestation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.OneToOneField('hoist.PromotionRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='attestation', on_delete=OnDelete.CASCADE)),
                ('key_id', fields.CharField(max_length=64)),
                ('envelope', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'promotion_attestations', 'app': 'hoist', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PromotionPolicy',
            name='enforcement',
            field=fields.CharEnumField(default=Enforcement.ENFORCE, description='ENFORCE: ENFORCE\nWARN: WARN', db_default='ENFORCE', enum_type=Enforcement, max_length=16),
        ),
        ops.AddField(
            model_name='PromotionRequest',
            name='warnings',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
