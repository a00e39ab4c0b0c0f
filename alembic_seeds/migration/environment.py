"""Running Alembic with the conventions of alembic-seeds (called from ``migrations/env.py``).

- The URL comes from ``DATABASE_URL``; without it, a SQLite file next to ``alembic.ini``.
- SQLite connections enforce foreign keys, as the schema expects.
- Each revision runs in its own transaction with its version stamp.
- On PostgreSQL every run takes one advisory lock (schema and data alike), waits for it a
  bounded time, and runs with a lock timeout so that a locked table makes it give up instead
  of queueing every reader behind it.
- The command succeeds only if the database, read afresh, is where the run says it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from logging.config import fileConfig
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import MetaData, create_engine, event, pool
from sqlalchemy.engine import Connection, Engine

from alembic_seeds.errors import LockTimeout
from alembic_seeds.migration import lock
from alembic_seeds.migration.log import log_metadata
from alembic_seeds.migration.revision import METADATA_ATTRIBUTE

#: File name of the embedded default database, in the folder of ``alembic.ini``.
DEFAULT_SQLITE_FILE = "lumina.db"
APPLICATION_NAME = "alembic-seeds"


def database_url(config_file: str | None) -> str:
    """``DATABASE_URL`` if set, else the embedded SQLite file beside ``config_file``."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    folder = Path(config_file).resolve().parent if config_file else Path.cwd()
    return f"sqlite:///{folder / DEFAULT_SQLITE_FILE}"


@dataclass(frozen=True)
class Timeouts:
    """Seconds; from ``-x NAME=SECONDS`` or the environment (``SEEDS_LOCK_WAIT``, ...)."""

    #: How long to wait for another migration run to finish.
    lock_wait: float = 300.0
    #: How long one statement may wait for a row or table lock (PostgreSQL lock_timeout).
    lock_timeout: float = 5.0
    #: How long one statement may run (0: no limit).
    statement_timeout: float = 0.0

    @classmethod
    def from_arguments(cls, x_arguments: dict[str, str]) -> Timeouts:
        values: dict[str, float] = {}
        for name in ("lock_wait", "lock_timeout", "statement_timeout"):
            text = x_arguments.get(name, os.environ.get(f"SEEDS_{name.upper()}"))
            if text is None or text == "":
                continue
            try:
                values[name] = float(text)
            except ValueError:
                raise CommandError(f"{name}={text!r}: expected a number of seconds") from None
            if values[name] < 0:
                raise CommandError(f"{name}={text!r}: must not be negative")
        return cls(**values)


def make_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    connect_args: dict[str, Any] = {}
    if timeouts is not None and url.startswith("postgresql"):
        # Startup options, not SET: a RESET inside a revision cannot undo them.
        connect_args["options"] = (
            f"-c lock_timeout={int(timeouts.lock_timeout * 1000)}"
            f" -c statement_timeout={int(timeouts.statement_timeout * 1000)}"
            f" -c application_name={APPLICATION_NAME}"
        )
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def run_migrations(target_metadata: MetaData) -> None:
    """Run the migrations Alembic asked for, online or offline (``--sql``)."""
    config_file = context.config.config_file_name
    if config_file is not None and context.config.attributes.get("configure_logger", True):
        fileConfig(config_file, disable_existing_loggers=False)
    url = database_url(config_file)
    context.config.attributes[METADATA_ATTRIBUTE] = target_metadata
    options: dict[str, Any] = {
        # The log of applied data revisions is part of the schema Alembic manages.
        "target_metadata": [target_metadata, log_metadata],
        "transaction_per_migration": True,
        "compare_type": True,
        "render_as_batch": url.startswith("sqlite"),
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    timeouts = Timeouts.from_arguments(context.get_x_argument(as_dictionary=True))
    engine = make_engine(url, timeouts)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                heads = _run_locked(connection, options, timeouts)
            else:
                heads = _run_online(connection, options)
        _verify_committed(engine, heads)
    finally:
        engine.dispose()


def _run_locked(connection: Connection, options: dict[str, Any], timeouts: Timeouts) -> list[str]:
    if (connection.dialect.server_version_info or (0,)) >= (14,):
        # A killed client's backend notices within a second and stops (and so does its
        # lock): no orphaned backend keeps writing while the next deploy starts.
        connection.execute(sa.text("SET client_connection_check_interval = 1000"))
        connection.commit()
    try:
        lock.acquire(connection, timeouts.lock_wait)
    except LockTimeout as error:
        raise CommandError(str(error)) from None
    try:
        return _run_online(connection, options)
    finally:
        lock.release(connection)


def _run_online(connection: Connection, options: dict[str, Any]) -> list[str]:
    if connection.in_transaction():
        # Alembic would take an open transaction for an outer one and never commit.
        connection.commit()
    context.configure(connection=connection, **options)
    try:
        with context.begin_transaction():
            context.run_migrations()
    except sa.exc.OperationalError as error:
        reason = _TIMEOUTS.get(getattr(error.orig, "sqlstate", None) or "")
        if reason is None:
            raise
        # The revision's transaction is rolled back: say so in one line, not a traceback.
        raise CommandError(f"{reason}; that revision was rolled back") from error
    return list(context.get_context().get_current_heads())


#: PostgreSQL errors that mean "a timeout of this run expired", as people read them.
_TIMEOUTS = {
    "57014": "a statement ran longer than the statement timeout (-x statement_timeout=SECONDS)",
    "55P03": "a lock stayed taken longer than the lock timeout (-x lock_timeout=SECONDS)",
}


def _verify_committed(engine: Engine, heads: list[str]) -> None:
    """Read the version table on a new connection: it must show what the run believes."""
    with engine.connect() as fresh:
        stored = set(MigrationContext.configure(fresh).get_current_heads())
    if stored != set(heads):
        raise CommandError(
            f"the database is at {sorted(stored) or 'base'}, not at {sorted(heads) or 'base'}"
            " as the run believes: its work was not committed"
        )
