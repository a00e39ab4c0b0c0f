"""SQLite: one driver-level executemany per staging table. Explicit keys move an INTEGER
PRIMARY KEY's next value (and AUTOINCREMENT's counter) by themselves, so no sequence needs
moving. Offline SQL spells a text with a carriage return as its bytes, which the sqlite3
shell keeps as they are. Where a delete can neither step aside nor go first without its
referrers, SQLite defers its foreign keys to the commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.apply.dialect import ApplyImpl, driver_executemany, unresolved
from alembic_seeds.apply.plan import Plan


class SqliteImpl(ApplyImpl):
    __dialect__ = "sqlite"

    def before_writes(self, plan: Plan) -> list[sa.Executable]:
        if any(blocked.operation != "delete" for blocked in plan.blocked):
            raise unresolved(plan)
        if not plan.blocked:
            return []
        plan.release_blocked_deletes()
        # Still checked, at COMMIT: by then the rows referring to them are updated.
        return [sa.text("PRAGMA defer_foreign_keys = ON")]

    def text_literal(self, value: str) -> str | None:
        # The sqlite3 shell drops a carriage return before a line break, inside a quoted
        # text too: such a text goes as its UTF-8 bytes.
        if "\r" not in value:
            return None
        return f"CAST(X'{value.encode('utf-8').hex()}' AS TEXT)"

    def fill(self, connection: Connection, table: sa.Table, rows: Iterator[tuple[Any, ...]]) -> int:
        # The driver's executemany: one prepared statement, however many rows.
        return driver_executemany(connection, table, rows, "?")
