"""A database refusing a value too large for one of its indexes, named by table and row.

Validation refuses such values before deploy wherever a backend's limit is known
(``dataset/indexes.py``). What still reaches the database (a revision written before, an
index the metadata does not describe) fails there with an error that names at most an index
and a tuple address: this finds the row of the change set it most likely is.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from alembic_seeds.changes.changeset import ChangeSet, Row
from alembic_seeds.dataset.indexes import largest_postgresql_entry

#: SQLSTATE program_limit_exceeded: PostgreSQL's "index row size ... exceeds" and
#: "index row requires ... bytes".
PROGRAM_LIMIT_EXCEEDED = "54000"


def index_limit_failure(
    error: BaseException, metadata: sa.MetaData, changes: ChangeSet
) -> str | None:
    """One line naming the table and row a "too large for an index" error comes from;
    None when ``error`` is another error."""
    original: Any = getattr(error, "orig", None) or error
    if getattr(original, "sqlstate", None) != PROGRAM_LIMIT_EXCEEDED:
        return None
    diagnostic = getattr(original, "diag", None)
    table = getattr(diagnostic, "table_name", None)
    index = getattr(diagnostic, "constraint_name", None)
    reason = str(getattr(diagnostic, "message_primary", None) or original).splitlines()[0]
    entry = largest_postgresql_entry(metadata, _written_rows(changes), table=table, index=index)
    if entry is None:
        where = f"table {table}" if table else "a table of the revision"
        return f"{where}: a value is too large for an index ({reason}); nothing was written"
    key = {
        column.name: entry.row.get(column.name)
        for column in metadata.tables[entry.table].primary_key
    }
    shown_key = ", ".join(f"{name}={value!r}" for name, value in key.items())
    in_index = f"index {index}" if index else f"the index over ({', '.join(entry.columns)})"
    return (
        f"{entry.table} {shown_key}: too large for {in_index}: its entry takes {entry.size} "
        f"bytes ({reason}); nothing was written"
    )


def _written_rows(changes: ChangeSet) -> dict[str, list[Row]]:
    """The rows each table gets: inserted rows, and updated rows' keys with new values."""
    return {
        table: [*table_changes.inserts, *({**u.key, **u.after} for u in table_changes.updates)]
        for table, table_changes in changes.tables.items()
    }
