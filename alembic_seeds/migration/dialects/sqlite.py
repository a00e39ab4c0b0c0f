"""SQLite: foreign keys enforced on every connection; no lock (one file, one deploy at a time)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from alembic_seeds.migration.dialects import Dialect
from alembic_seeds.migration.timeouts import Timeouts


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


class SQLite(Dialect):
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

    def connect_hint(self, message: str) -> str | None:
        if "unable to open database file" in message:
            return "the SQLite file's folder does not exist or cannot be written"
        return None


DIALECT = SQLite()
