from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Who registered an image, and CI identities (issue 11, item 7)."""

    dependencies = [('hoist', '0003_notifications')]

    initial = False

    operations: list[ops.Operation] = []
