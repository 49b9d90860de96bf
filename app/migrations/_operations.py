"""Migration operations of Hoist's own (the leading underscore keeps Tortoise from taking
this module for a migration)."""

from tortoise.migrations import operations as ops


class AlterDescription(ops.AlterField):
    """A field whose only change is its description (here: one more enum value, UNKNOWN).

    SQLite keeps no column comments and stores the new value in the same VARCHAR(16)
    already, while its way of altering a column (rebuilding the table) would drop the
    table's unique constraint and indexes: so on SQLite only the migration state moves.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT == "sqlite":
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


class RemoveUnique(ops.RemoveConstraint):
    """Drop a unique constraint, also on SQLite, where it is part of the table's definition.

    SQLite cannot drop a table constraint, and Tortoise's way there asks for an index of
    that name, which a `CONSTRAINT ... UNIQUE` clause does not create. So on SQLite the
    table is rebuilt from its own stored definition minus that one clause (SQLite's
    documented procedure: new table, copy, drop, rename), and its indexes are made again.
    Columns, defaults, comments and foreign keys stay exactly as they were.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is None or state_editor.DIALECT != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        import re

        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        table = model._meta.db_table
        columns = ", ".join(
            f'"{column}"' for column in state_editor._resolve_fields_to_columns(model, self.fields)
        )
        client = state_editor.client
        _, tables = await client.execute_query(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
        )
        _, indexes = await client.execute_query(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            [table],
        )
        clause = re.compile(r',\s*CONSTRAINT "[^"]+" UNIQUE \(' + re.escape(columns) + r"\)")
        definition, found = clause.subn("", tables[0]["sql"], count=1)
        if not found:
            raise ValueError(f"{table} has no unique constraint on {columns}")
        new = f"new__{table}"
        definition = definition.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{new}"', 1)
        for statement in (
            definition,
            f'INSERT INTO "{new}" SELECT * FROM "{table}"',
            f'DROP TABLE "{table}"',
            f'ALTER TABLE "{new}" RENAME TO "{table}"',
            *(row["sql"] for row in indexes),
        ):
            await client.execute_script(statement)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        raise NotImplementedError("dropping a unique constraint is not undone")
