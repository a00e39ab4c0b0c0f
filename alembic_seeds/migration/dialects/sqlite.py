"""SQLite: foreign keys enforced on every connection; no lock (one file, one deploy at a time)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from alembic_seeds.migration.dialects import Dialect
from alembic_seeds.migration.timeouts import Timeouts


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


class SQLite(Dialect):
    connect_hints = (
        (
            ("unable to open database file",),
            "the SQLite file's folder does not exist or cannot be written",
        ),
    )
    name = "sqlite"

    def prepare_engine(self, engine: Engine) -> None:
        # SQLite leaves foreign keys unchecked unless each connection asks.
        event.listen(engine, "connect", _foreign_keys_on)

    def prepare_session(self, connection: Connection, timeouts: Timeouts) -> None:
        if connection.in_transaction():
            # The pragma is ignored inside a transaction.
            connection.commit()
        connection.execute(sa.text("PRAGMA foreign_keys = ON"))
        connection.commit()

    @contextlib.contextmanager
    def rebuilding(self, context: MigrationContext) -> Iterator[None]:
        """Foreign keys off while a table is rebuilt (batch mode copies it, drops the old
        one and renames the copy): with them on, dropping the old table would fail on the
        references that RESTRICT and delete the rows of those that CASCADE. The pragma is
        ignored inside a transaction, so the revision's transaction is committed first
        (``autocommit_block``), and the rebuild commits on its own at the end; with --sql,
        the same statements in that order."""
        with context.autocommit_block():
            context.impl.execute("PRAGMA foreign_keys = OFF")
        # The rebuild in one transaction of its own: the driver would leave the CREATE TABLE
        # of the copy outside any, so that a failure left the copy behind.
        context.impl.execute("BEGIN")
        yield
        if not context.as_sql and context.connection is not None:
            broken = context.connection.execute(sa.text("PRAGMA foreign_key_check")).all()
            if broken:
                shown = ", ".join(f"{row[0]} row {row[1]} -> {row[2]}" for row in broken[:5])
                raise CommandError(
                    f"the rebuilt tables leave {len(broken)} reference(s) that do not hold "
                    f"({shown}); the rebuild was rolled back"
                )
        context.impl.execute("COMMIT")
        with context.autocommit_block():
            context.impl.execute("PRAGMA foreign_keys = ON")


DIALECT = SQLite()
