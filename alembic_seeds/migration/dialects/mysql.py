"""MySQL and MariaDB: one named lock (GET_LOCK) per database, timeouts as session variables,
error numbers in words.

MySQL commits every DDL statement on its own (no transactional DDL): a data revision runs in
one transaction with its version stamp, but a schema revision that fails halfway leaves the
statements before the failure in place.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.migration.dialects import Dialect
from alembic_seeds.migration.lock import LOCK_NAME, MigrationLock
from alembic_seeds.migration.timeouts import Timeouts

#: The longest name GET_LOCK takes.
MAX_LOCK_NAME = 64


def lock_name(database: str) -> str:
    """The lock's name for ``database``: named locks are the server's, not a database's, so
    the name carries the database (hashed where it would be too long)."""
    name = f"{LOCK_NAME}: {database}"
    if len(name) <= MAX_LOCK_NAME:
        return name
    return f"{LOCK_NAME}: {hashlib.sha256(database.encode()).hexdigest()[:32]}"


class NamedLock(MigrationLock):
    name = f"GET_LOCK('{LOCK_NAME}: <database>')"

    def _name(self, connection: Connection) -> str:
        database = connection.execute(sa.text("SELECT DATABASE()")).scalar_one()
        return lock_name(str(database))

    def try_acquire(self, connection: Connection) -> bool:
        # Timeout 0: never wait in the server; the caller polls up to its deadline.
        taken = connection.execute(
            sa.text("SELECT GET_LOCK(:name, 0)"), {"name": self._name(connection)}
        )
        return bool(taken.scalar_one() == 1)

    def unlock_statement(self, connection: Connection) -> sa.Executable:
        return sa.text("SELECT RELEASE_LOCK(:name)").bindparams(name=self._name(connection))

    def describe_holder(self, connection: Connection) -> str:
        row: Any = connection.execute(
            sa.text(
                "SELECT p.ID AS id, p.USER AS user, p.HOST AS host, p.COMMAND AS command,"
                " p.TIME AS seconds FROM information_schema.PROCESSLIST p"
                " WHERE p.ID = IS_USED_LOCK(:name)"
            ),
            {"name": self._name(connection)},
        ).first()
        if row is None:
            return "holder unknown (it just finished)"
        return (
            f"connection {row.id} ({row.user} from {row.host}, {row.command.lower()} "
            f"for {row.seconds} s)"
        )


#: Words of the server's and PyMySQL's connection errors, and what to do about each.
_CONNECT_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Unknown database",), "create it first (CREATE DATABASE NAME), or name one that exists"),
    (
        ("Access denied",),
        "check the URL's user and password (percent-encoded), and that the user may connect "
        "from this host",
    ),
    (
        ("Can't connect",),
        "nothing listens there: is the server running, and are the URL's host and port right?",
    ),
)


class MySQL(Dialect):
    connect_hints = _CONNECT_HINTS
    name = "mysql"
    lock = NamedLock()
    transactional_ddl = False

    def connect_args(self, timeouts: Timeouts) -> dict[str, Any]:
        # Every text in utf8mb4 (PyMySQL's default, said aloud for other drivers' sake).
        return {"charset": "utf8mb4"}

    def prepare_session(self, connection: Connection, timeouts: Timeouts) -> None:
        # Whole seconds, at least one: what the server takes.
        wait = max(1, math.ceil(timeouts.lock_timeout))
        connection.execute(
            sa.text(
                "SET SESSION innodb_lock_wait_timeout = :wait, SESSION lock_wait_timeout = :wait"
            ),
            {"wait": wait},
        )
        if connection.dialect.server_version_info and _is_mariadb(connection):
            # MariaDB's limit on every statement (MySQL's max_execution_time covers SELECTs only).
            connection.execute(
                sa.text("SET SESSION max_statement_time = :seconds"),
                {"seconds": timeouts.statement_timeout},
            )
        connection.commit()

    def describe_error(self, error: BaseException, timeouts: Timeouts) -> str | None:
        arguments: tuple[Any, ...] = tuple(getattr(error, "args", ()))
        number = arguments[0] if arguments and isinstance(arguments[0], int) else None
        message = str(arguments[1]) if len(arguments) > 1 else str(error)
        if number == ER_LOCK_WAIT_TIMEOUT:
            return (
                f"a lock stayed taken longer than the lock timeout of {timeouts.lock_timeout:g} s"
                " (-x lock_timeout=SECONDS)"
            )
        if number == ER_STATEMENT_TIMEOUT:
            return (
                "a statement ran longer than the statement timeout of "
                f"{timeouts.statement_timeout:g} s (-x statement_timeout=SECONDS)"
            )
        if number in (ER_CONNECTION_KILLED, ER_QUERY_INTERRUPTED):
            return (
                f"the server ended the statement or connection ({message}): an administrator or "
                "another session killed it (KILL), or the server shut down"
            )
        return None


def _is_mariadb(connection: Connection) -> bool:
    return bool(getattr(connection.dialect, "is_mariadb", False))


#: Server error numbers.
ER_LOCK_WAIT_TIMEOUT = 1205
ER_QUERY_INTERRUPTED = 1317
ER_CONNECTION_KILLED = 1927
ER_STATEMENT_TIMEOUT = 1969


DIALECT = MySQL()
