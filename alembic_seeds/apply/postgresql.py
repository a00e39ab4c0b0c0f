"""PostgreSQL: COPY into staging tables, fresh statistics for large ones, DEFERRABLE unique
constraints deferred rather than parked around, and sequences moved past inserted keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql as psycopg_sql
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.engine import Connection

from alembic_seeds.apply.dialect import ApplyImpl, unresolved
from alembic_seeds.apply.plan import Plan
from alembic_seeds.apply.schema import UniqueKey

#: Staging tables at least this large get fresh planner statistics before they are joined.
ANALYZE_MIN_ROWS = 1000
#: The longest identifier PostgreSQL keeps, in bytes (NAMEDATALEN - 1).
MAX_NAME_BYTES = 63
#: SQLSTATE lock_not_available: the lock_timeout expired.
LOCK_NOT_AVAILABLE = "55P03"


class PostgresqlImpl(ApplyImpl):
    __dialect__ = "postgresql"

    def defers(self, key: UniqueKey) -> bool:
        # Simpler than parking, where the schema allows it.
        return key.deferrable

    def before_writes(self, plan: Plan) -> list[sa.Executable]:
        if plan.blocked:
            raise unresolved(plan)
        return [sa.text("SET CONSTRAINTS ALL DEFERRED")] if plan.deferred else []

    def sequence_reset(self, table: sa.Table, column: sa.Column[Any]) -> sa.Executable:
        """Move the sequence forward to the largest key, never back (the application may
        have drawn numbers beyond it); a column without a sequence makes it a no-op."""
        preparer = self.dialect.identifier_preparer
        if isinstance(column.default, sa.Sequence):
            name: sa.ColumnElement[Any] = sa.literal(
                preparer.format_sequence(column.default), sa.Text
            )
        else:
            name = sa.func.pg_get_serial_sequence(
                sa.literal(preparer.format_table(table), sa.Text),
                sa.literal(column.name, sa.Text),
            )
        sequence = sa.cast(name, REGCLASS)
        largest = sa.select(sa.func.max(column).label("m")).subquery("seeds_largest_key")
        return sa.select(sa.func.setval(sequence, largest.c.m)).where(
            largest.c.m > sa.func.coalesce(sa.func.pg_sequence_last_value(sequence), 0)
        )

    def fill(self, connection: Connection, table: sa.Table, rows: Iterator[tuple[Any, ...]]) -> int:
        driver = connection.connection.driver_connection
        assert driver is not None
        # psycopg quotes the names itself: the statement goes to the driver as it is.
        name = (
            psycopg_sql.Identifier(table.schema, table.name)
            if table.schema
            else psycopg_sql.Identifier(table.name)
        )
        statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
            name, psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(c.name) for c in table.columns)
        )
        count = 0
        with driver.cursor() as cursor, cursor.copy(statement.as_string(cursor)) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def after_fill(self, table: sa.Table, count: int) -> list[sa.Executable]:
        if count < ANALYZE_MIN_ROWS:
            return []
        # Fresh statistics keep the planner from a nested loop over a table it believes
        # tiny (the trap of set-based diffs right after a bulk load).
        return [sa.text(f"ANALYZE {self.dialect.identifier_preparer.format_table(table)}")]

    def stored_name(self, name: str) -> str:
        # PostgreSQL cuts an identifier to NAMEDATALEN - 1 bytes, never inside a character.
        encoded = name.encode("utf-8")
        if len(encoded) <= MAX_NAME_BYTES:
            return name
        return encoded[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")

    def is_lock_timeout(self, error: BaseException) -> bool:
        if isinstance(error, psycopg.errors.LockNotAvailable):
            return True
        return getattr(getattr(error, "orig", None), "sqlstate", None) == LOCK_NOT_AVAILABLE
