"""What an Alembic ``env.py`` adds to migrate with alembic-seeds, and the one-liner built on it.

``SeedsEnvironment`` fits Alembic's usual ``env.py`` without taking it over::

    seeds = alembic_seeds.SeedsEnvironment(target_metadata)

    def run_migrations_offline() -> None:
        context.configure(url=seeds.url, literal_binds=True, **seeds.configure_options())
        with context.begin_transaction():
            context.run_migrations()

    def run_migrations_online() -> None:
        connectable = engine_from_config(..., url=seeds.url)
        with seeds.connect(connectable) as connection:
            context.configure(connection=connection, **seeds.configure_options())
            with context.begin_transaction():
                context.run_migrations()

- ``configure_options()``: each revision in its own transaction with its version stamp; the
  metadata the data revisions need; the log of applied data revisions as part of the
  schema (so that autogenerate never drops it); a new schema revision that changes what
  data revisions wrote depends on them.
- ``connect()``: the session's timeouts, the migration lock (PostgreSQL: one advisory lock
  for every run, schema and data alike), failures as one ``FAILED:`` line, and a final
  check that the database, read on a new connection, is at the heads the run believes.

``run_migrations(target_metadata)`` is the whole ``env.py`` in one call, on these pieces.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from logging.config import fileConfig
from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from alembic_seeds.errors import ConfigError, LockTimeout
from alembic_seeds.migration.database import (
    connection_failure,
    database_message,
    database_url,
    make_engine,
    parse_url,
    shown_url,
)
from alembic_seeds.migration.dialects import dialect_for
from alembic_seeds.migration.failures import (
    TRACEBACK_VARIABLE,
    RevisionTracker,
    Steps,
    failed,
    understood,
)
from alembic_seeds.migration.lock import MigrationLock
from alembic_seeds.migration.log import log_metadata
from alembic_seeds.migration.output import PipeOutput
from alembic_seeds.migration.revision import METADATA_ATTRIBUTE
from alembic_seeds.migration.timeouts import Timeouts

logger = logging.getLogger("alembic_seeds")

__all__ = ["SeedsEnvironment", "make_engine", "run_migrations"]


class SeedsEnvironment:
    """The parts of a migration run that alembic-seeds needs, for a project's own ``env.py``.

    Made once per run, in ``env.py``, after ``target_metadata`` is known: it reads the
    timeouts (``-x lock_wait=...`` or ``SEEDS_LOCK_WAIT``, ...) and leaves the metadata where
    data revisions find it.
    """

    def __init__(self, target_metadata: MetaData) -> None:
        self.metadata = target_metadata
        self.config = context.config
        self.config.attributes[METADATA_ATTRIBUTE] = target_metadata
        with _one_line():
            self.timeouts = Timeouts.from_arguments(context.get_x_argument(as_dictionary=True))
        self._tracker = RevisionTracker()

    @property
    def url(self) -> str:
        """The database: ``DATABASE_URL`` if set, else ``sqlalchemy.url`` of ``alembic.ini``."""
        with _one_line():
            return database_url(self.config)

    @property
    def target_metadata(self) -> list[MetaData]:
        """The project's metadata and that of the log of applied data revisions."""
        return [self.metadata, log_metadata]

    def configure_options(self) -> dict[str, Any]:
        """Keyword arguments for ``context.configure(...)``, online and offline.

        ``target_metadata`` is among them (``target_metadata`` above): do not pass your own.
        """
        options: dict[str, Any] = {
            "target_metadata": self.target_metadata,
            # A failed revision leaves the database at the one before it, not at the start
            # of the run; and the version stamp commits with the revision's work.
            "transaction_per_migration": True,
            # A new schema revision that drops, renames or makes NOT NULL what data
            # revisions wrote depends on them (a project with a hook of its own calls
            # this one from it).
            "process_revision_directives": self.process_revision_directives,
        }
        steps = _command_steps()
        if steps is not None:
            options["fn"] = self._tracker.wrap(steps)
        if context.is_offline_mode():
            options["output_buffer"] = PipeOutput(self.config.output_buffer or sys.stdout)
        return options

    @staticmethod
    def process_revision_directives(
        context: MigrationContext, revision: Any, directives: list[Any]
    ) -> None:
        """Alembic's hook for ``alembic revision --autogenerate``: a schema revision that
        changes columns or tables data revisions wrote gets the data heads in its
        ``depends_on``."""
        # Imported here: only `alembic revision` needs replay, every other run starts faster.
        from alembic_seeds.migration.schema_revisions import depend_on_data  # noqa: PLC0415

        depend_on_data(context, revision, directives)

    def engine(self) -> Engine:
        """An engine for ``url`` whose connections start with the run's timeouts."""
        try:
            return make_engine(self.url, self.timeouts)
        except (SQLAlchemyError, ImportError) as error:
            parsed = parse_url(self.url)
            raise CommandError(
                f"database {shown_url(parsed)}: {database_message(error, parsed)}"
            ) from None

    @contextlib.contextmanager
    def connect(self, connectable: Engine | Connection) -> Iterator[Connection]:
        """The connection to migrate on, with the session's timeouts and the migration lock.

        ``connectable``: an engine (connected here, closed afterwards) or a connection (used
        as it is, left open). Failures come out as ``CommandError`` (Alembic's one ``FAILED:``
        line); on success, the version table is read again on a new connection and must
        hold the heads the run believes.
        """
        with self._connection(connectable) as connection:
            support = dialect_for(connection.dialect.name)
            with self._failures(connection):
                support.prepare_session(connection, self.timeouts)
                if support.lock is not None:
                    _acquire(support.lock, connection, self.timeouts)
            try:
                if connection.in_transaction():
                    # Alembic would take an open transaction for an outer one and never
                    # commit (an "engine_connect" hook that ran a query leaves one, say).
                    connection.commit()
                with self._failures(connection):
                    yield connection
                heads = _believed_heads()
                if heads is not None:
                    self._verify(connection, heads)
            finally:
                if support.lock is not None:
                    _release(support.lock, connection)

    @contextlib.contextmanager
    def _connection(self, connectable: Engine | Connection) -> Iterator[Connection]:
        if isinstance(connectable, Connection):
            yield connectable
            return
        try:
            connection = connectable.connect()
        except sa.exc.DBAPIError as error:
            if _tracebacks_wanted():
                raise
            raise CommandError(connection_failure(error, connectable.url)) from error
        with connection:
            yield connection

    @contextlib.contextmanager
    def _failures(self, connection: Connection) -> Iterator[None]:
        """Failures that people meet at deploy time, as one line naming the revision."""
        try:
            yield
        except Exception as error:
            failure = understood(error, connection, self.timeouts)
            if failure is None:
                raise
            state = self._state_after_loss(connection) if failure.connection_lost else None
            raise failed(failure, self._tracker.where(), state) from error

    def _verify(self, connection: Connection, heads: tuple[str, ...]) -> None:
        """Read the version table on a new connection: it must show what the run believes."""
        stored = self._stored_heads(connection)
        if set(stored) != set(heads):
            raise CommandError(
                f"the database is at {_heads(stored)}, not at {_heads(heads)} as the run "
                "believes: its work was not committed"
            )

    def _stored_heads(self, connection: Connection) -> tuple[str, ...]:
        migration = context.get_context()
        options = {
            "version_table": migration.version_table,
            "version_table_schema": migration.version_table_schema,
        }
        try:
            with connection.engine.connect() as fresh:
                return MigrationContext.configure(fresh, opts=options).get_current_heads()
        except sa.exc.DBAPIError as error:
            raise CommandError(
                "the run ended, but its result cannot be read back: "
                + connection_failure(error, connection.engine.url)
            ) from error

    def _state_after_loss(self, connection: Connection) -> str:
        try:
            return f"the database is at {_heads(self._stored_heads(connection))}"
        except CommandError:
            return "the database cannot be read now to tell where it is"


def _acquire(lock: MigrationLock, connection: Connection, timeouts: Timeouts) -> None:
    try:
        lock.acquire(connection, timeouts.lock_wait)
    except LockTimeout as error:
        raise CommandError(str(error)) from None


def _release(lock: MigrationLock, connection: Connection) -> None:
    if connection.closed or connection.invalidated:
        return  # the session is gone, and its lock with it
    try:
        lock.release(connection)
    except SQLAlchemyError as error:
        # It ends with the session at the latest; say so rather than hide the first error.
        logger.warning(
            "could not release the migration lock (%s); it is released when the connection closes",
            database_message(error, connection.engine.url),
        )


def _believed_heads() -> tuple[str, ...] | None:
    """The heads as the run's own connection sees them; None when nothing was configured."""
    try:
        migration = context.get_context()
    except Exception:  # Alembic's "No context has been configured yet."
        return None
    if migration.connection is None:
        return None
    return migration.get_current_heads()


def _heads(heads: tuple[str, ...]) -> str:
    return ", ".join(sorted(heads)) or "base (no revision)"


def _command_steps() -> Steps | None:
    """The steps of the running Alembic command (see ``RevisionTracker`` for why)."""
    environment = getattr(context, "_proxy", None)
    options = getattr(environment, "context_opts", None)
    steps = options.get("fn") if isinstance(options, dict) else None
    return steps if callable(steps) else None


def _tracebacks_wanted() -> bool:
    return bool(os.environ.get(TRACEBACK_VARIABLE))


@contextlib.contextmanager
def _one_line() -> Iterator[None]:
    """A configuration error in ``env.py`` as Alembic's ``FAILED:`` line."""
    try:
        yield
    except ConfigError as error:
        raise CommandError(str(error)) from None


def run_migrations(target_metadata: MetaData) -> None:
    """The whole ``env.py``: run the migrations Alembic asked for, online or offline (``--sql``).

    Logging as ``alembic.ini`` says, a connection without a pool whose session starts with
    the run's timeouts, and everything ``SeedsEnvironment`` does.
    """
    config = context.config
    if config.config_file_name is not None and config.attributes.get("configure_logger", True):
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    seeds = SeedsEnvironment(target_metadata)
    url = seeds.url
    options = {
        **seeds.configure_options(),
        "compare_type": True,
        "render_as_batch": parse_url(url).get_backend_name() == "sqlite",
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = seeds.engine()
    try:
        with seeds.connect(engine) as connection:
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
