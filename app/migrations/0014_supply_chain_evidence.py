from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.supplychain.models import EvidenceType
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('hoist', '0013_outbox_traceparent')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SigningKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=50)),
                ('algorithm', fields.CharField(max_length=16)),
                ('public_key', fields.TextField(unique=False)),
                ('fingerprint', fields.CharField(unique=True, max_length=80)),
                ('created_by', fields.ForeignKeyField('hoist.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='signing_keys', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'signing_keys', 'app': 'hoist', 'pk_attr': 'id', 'table_description': 'A public key signatures and DSSE envelopes are verified against (super-admins).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Evidence',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('image', fields.ForeignKeyField('hoist.Image', source_field='image_id', db_constraint=True, to_field='id', related_name='evidence', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='SIGNATURE: SIGNATURE\nVULNERABILITY_REPORT: VULNERABILITY_REPORT\nPROVENANCE: PROVENANCE\nSBOM: SBOM', enum_type=EvidenceType, max_length=24)),
                ('format', fields.CharField(max_length=16)),
                ('digest', fields.CharField(max_length=100)),
                ('summary', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('verified', fields.BooleanField(default=False)),
                ('signing_key', fields.ForeignKeyField('hoist.SigningKey', source_field='signing_key_id', null=True, db_constraint=True, to_field='id', related_name='evidence', on_delete=OnDelete.SET_NULL)),
                ('key_name', fields.CharField(null=True, max_length=50)),
                ('document_sha256', fields.CharField(max_length=64)),
                ('attached_by', fields.ForeignKeyField('hoist.User', source_field='attached_by_id', null=True, db_constraint=True, to_field='id', related_name='attached_evidence', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'evidence', 'app': 'hoist', 'indexes': [Index(fields=['image_id', 'kind', 'id'])], 'pk_attr': 'id', 'table_description': 'One document attached to an image, as its summary (the document itself is not kept:'},
            bases=['Model'],
        ),
    ]
