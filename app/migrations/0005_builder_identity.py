from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Who registered an image, and CI identities (issue 11, item 7)."""

    dependencies = [('hoist', '0004_decisions_by_user')]

    initial = False

    # Images registered before this migration have no recorded registrant: only their
    # named builder counts for the separation-of-duty flags, as before.
    operations: list[ops.Operation] = [
        ops.AddField(
            model_name='Image',
            name='registered_by',
            field=fields.ForeignKeyField(
                'hoist.User', source_field='registered_by_id', null=True, db_constraint=True,
                to_field='id', related_name='registered_images', on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name='Image',
            name='registered_by_ci',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='User',
            name='ci_identity',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
