"""``table_rebuild()``: for a schema revision that rebuilds a table other tables refer to."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from alembic import op

from alembic_seeds.migration.dialects import dialect_for


@contextlib.contextmanager
def table_rebuild() -> Iterator[None]:
    """Wrap a batch operation that copies a table which other tables refer to::

        with alembic_seeds.table_rebuild(), op.batch_alter_table("Question", ...) as batch:
            batch.alter_column(...)

    Alembic's batch mode on SQLite copies the table, drops the old one and renames the copy.
    With foreign keys on (as every connection of this project has them), dropping the old
    table fails on the references that RESTRICT and deletes the rows of those that CASCADE
    (a seeded join table, say). On SQLite they are off meanwhile, and checked afterwards;
    on other databases, which alter a table in place, this does nothing. It commits the
    revision's work before and after the rebuild (``autocommit_block``), online and with
    ``--sql``.
    """
    context = op.get_context()
    with dialect_for(context.dialect.name).rebuilding(context):
        yield
