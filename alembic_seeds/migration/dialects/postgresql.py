"""PostgreSQL: a session advisory lock, timeouts as server settings, SQLSTATEs in words."""

from __future__ import annotations

import zlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.migration.dialects import Dialect
from alembic_seeds.migration.lock import LOCK_NAME, MigrationLock
from alembic_seeds.migration.timeouts import Timeouts

#: The advisory lock key: the same for every process that migrates a database of this kind
#: (advisory locks belong to one database, so other databases of the server do not share it).
LOCK_KEY = zlib.crc32(LOCK_NAME.encode()) & 0x7FFFFFFF
#: The session's ``application_name``: how a run shows in ``pg_stat_activity``.
APPLICATION_NAME = "alembic-seeds"
#: A killed client's backend notices within this many milliseconds and stops, so that no
#: orphaned backend keeps writing while the next deploy starts (PostgreSQL 14 and later).
CLIENT_CHECK_MS = 1000


class AdvisoryLock(MigrationLock):
    name = f"key {LOCK_KEY}"

    def try_acquire(self, connection: Connection) -> bool:
        taken = connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
        return bool(taken.scalar_one())

    def unlock_statement(self, connection: Connection) -> sa.Executable:
        return sa.text("SELECT pg_advisory_unlock(:key)").bindparams(key=LOCK_KEY)

    def describe_holder(self, connection: Connection) -> str:
        row: Any = connection.execute(
            sa.text(
                "SELECT a.pid, a.application_name, a.client_addr, a.state,"
                " extract(epoch FROM now() - a.xact_start) AS seconds"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted"
                # Advisory locks belong to one database; others may use the same key.
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1"
            ),
            {"key": LOCK_KEY},
        ).first()
        if row is None:
            return "holder unknown (it just finished)"
        where = f" from {row.client_addr}" if row.client_addr else ""
        busy = f", in a transaction for {row.seconds:.0f} s" if row.seconds is not None else ""
        application = row.application_name or "no application name"
        return f"pid {row.pid} ({application}{where}, {row.state}{busy})"


def _milliseconds(seconds: float) -> str:
    return str(round(seconds * 1000))


#: Words of libpq's and the server's connection errors, and what to do about each.
_CONNECT_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("database", "does not exist"),
        "create it first (createdb NAME, or CREATE DATABASE in psql), or name one that exists",
    ),
    (
        ("role", "does not exist"),
        "the URL's user is not a role of this server: name one that is (or CREATE ROLE it)",
    ),
    (
        ("password authentication failed",),
        "check the password: in the URL percent-encoded, or in PGPASSWORD or ~/.pgpass",
    ),
    (
        ("no password supplied",),
        "the server wants a password: in the URL percent-encoded, or in PGPASSWORD or ~/.pgpass",
    ),
    (
        ("Connection refused",),
        "nothing listens there: is the server running, and are the URL's host and port right?",
    ),
    (
        ("resolve host",),
        "the URL's host name does not resolve: put your server's host there "
        "(127.0.0.1 for a server on this machine)",
    ),
    (
        ("could not translate host name",),
        "the URL's host name does not resolve: put your server's host there "
        "(127.0.0.1 for a server on this machine)",
    ),
    (
        ("pg_hba.conf",),
        "the server does not let this user connect from here (its pg_hba.conf)",
    ),
    (("timeout expired",), "the server did not answer in time: are the URL's host and port right?"),
)


class PostgreSQL(Dialect):
    connect_hints = _CONNECT_HINTS
    name = "postgresql"
    lock = AdvisoryLock()

    def connect_args(self, timeouts: Timeouts) -> dict[str, Any]:
        # Startup options, not SET: a RESET inside a revision cannot undo them.
        options = {
            "lock_timeout": _milliseconds(timeouts.lock_timeout),
            "statement_timeout": _milliseconds(timeouts.statement_timeout),
            "application_name": APPLICATION_NAME,
        }
        return {"options": " ".join(f"-c {name}={value}" for name, value in options.items())}

    def prepare_session(self, connection: Connection, timeouts: Timeouts) -> None:
        settings = {
            "lock_timeout": _milliseconds(timeouts.lock_timeout),
            "statement_timeout": _milliseconds(timeouts.statement_timeout),
        }
        if (connection.dialect.server_version_info or (0,)) >= (14,):
            settings["client_connection_check_interval"] = str(CLIENT_CHECK_MS)
        # Session settings (is_local false): they hold for every revision's transaction. All
        # in one statement, one round trip (every command pays it before it starts).
        calls: list[sa.ColumnElement[Any]] = [
            sa.func.set_config(name, value, False) for name, value in settings.items()
        ]
        # The application name only where the connection has none of its own.
        own_name = sa.func.nullif(sa.func.current_setting("application_name"), "")
        calls.append(
            sa.func.set_config(
                "application_name", sa.func.coalesce(own_name, APPLICATION_NAME), False
            )
        )
        connection.execute(sa.select(*calls))
        connection.commit()

    def describe_error(self, error: BaseException, timeouts: Timeouts) -> str | None:
        sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        message = _primary_message(error)
        if sqlstate == "57014":  # query_canceled: a timeout, or pg_cancel_backend()
            return _cancelled(message, timeouts)
        if sqlstate == "55P03":  # lock_not_available
            return (
                f"a lock stayed taken longer than the lock timeout of {timeouts.lock_timeout:g} s"
                " (-x lock_timeout=SECONDS)"
            )
        if sqlstate in ("57P01", "57P02", "57P03"):  # admin_shutdown, crash_shutdown, ...
            return (
                f"the server ended the connection ({message}): an administrator or another "
                "session terminated it (pg_terminate_backend), or the server shut down"
            )
        if sqlstate == "42501":  # insufficient_privilege
            return f"{message} (the database role of this run lacks that privilege)"
        return None


def _primary_message(error: BaseException) -> str:
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        return str(primary)
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _cancelled(message: str, timeouts: Timeouts) -> str:
    # The server says why in English; in another language, the timeouts of the run tell.
    timeout = (
        f"a statement ran longer than the statement timeout of {timeouts.statement_timeout:g} s"
        " (-x statement_timeout=SECONDS)"
    )
    by_someone = (
        "the statement was cancelled by an administrator or another session (pg_cancel_backend)"
    )
    if "statement timeout" in message:
        return timeout
    if "user request" in message or not timeouts.statement_timeout:
        return by_someone
    return (
        "the statement was cancelled, by the statement timeout of "
        f"{timeouts.statement_timeout:g} s or by another session"
    )


DIALECT = PostgreSQL()
