"""Database-side checks: what a live database holds against what the revisions say.

Everything here only reads: connections are rolled back (and read only on PostgreSQL), and
a SQLite file that does not exist is reported instead of created.

- ``applied_data_revisions``: the data revisions (of every branch) that the database's Alembic
  heads include (ancestors of the heads, or the heads themselves).
- ``edited_revisions``: applied revisions whose change set is not the one that was applied
  (its checksum differs from the one the log table recorded at upgrade time).
- ``drift``: rows of the seeded tables that differ from the state the applied revisions
  produce when replayed offline.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from alembic_seeds.apply.snapshot import read_dataset, read_tables
from alembic_seeds.changes.changeset import ChangeSet, Dataset, Key, TableChanges, diff
from alembic_seeds.dataset.load import load_seeddata, primary_keys
from alembic_seeds.errors import ChangeSetError, ChangeSetFormatError, DatabaseAccessError
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.database import (
    connection_failure,
    database_message,
    make_engine,
    parse_url,
    shown_url,
)
from alembic_seeds.migration.log import LOG_TABLE, LogEntry, entries
from alembic_seeds.migration.replay import (
    DataScript,
    data_revisions_under,
    replay_under,
    writers,
)
from alembic_seeds.review.render import first_line

# ---------------------------------------------------------------------------------------
# Connecting.


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names (None for an in-memory or URI database)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


@contextlib.contextmanager
def read_only(url: str) -> Iterator[Connection]:
    """A connection to ``url`` that is rolled back at the end; errors as one line."""
    parsed = parse_url(url)
    file = _sqlite_file(parsed)
    if file is not None and not file.exists():
        raise DatabaseAccessError(f"database {shown_url(parsed)}: no such file")
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as error:
        raise DatabaseAccessError(
            f"database {shown_url(parsed)}: {database_message(error, parsed)}"
        ) from None
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as error:
            raise DatabaseAccessError(connection_failure(error, parsed)) from None
        with connection:
            try:
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SET TRANSACTION READ ONLY"))
                yield connection
            except SQLAlchemyError as error:
                raise DatabaseAccessError(
                    f"database {shown_url(parsed)}: {database_message(error, parsed)}"
                ) from None
            finally:
                with contextlib.suppress(SQLAlchemyError):
                    connection.rollback()
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------
# What the database holds.


def database_heads(connection: Connection) -> tuple[str, ...]:
    """The revisions in the database's Alembic version table (empty when it has none)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def applied_data_revisions(scripts: ScriptDirectory, heads: tuple[str, ...]) -> list[DataScript]:
    """The data revisions, of every branch, that a database at ``heads`` has applied (the
    heads and what they build on), oldest first."""
    try:
        return data_revisions_under(scripts, heads)
    except (CommandError, RevisionError) as error:
        raise DatabaseAccessError(
            f"the database is at {', '.join(heads)}, which these revisions do not know "
            f"({first_line(str(error))}); is this checkout older than the database?"
        ) from None


def read_seeded(
    connection: Connection, project: SeedsProject, required: Collection[str] | None = None
) -> Dataset:
    """Every row of the seeded tables; a missing table is an error naming it.

    With ``required``, only those tables must be there (the ones the history has at the
    database's point); another seeded table it lacks (a schema revision the database has
    not applied yet creates it) is left out.
    """
    return read_dataset(connection, project.metadata, seeded_tables(connection, project, required))


def seeded_tables(
    connection: Connection, project: SeedsProject, required: Collection[str] | None = None
) -> list[str]:
    """The seeded tables ``read_seeded`` reads, checked to be there."""
    inspector = sa.inspect(connection)
    tables = [
        table
        for table in project.spec.tables()
        if required is None or table in required or inspector.has_table(table)
    ]
    missing = [table for table in tables if not inspector.has_table(table)]
    if missing:
        tables_word = "tables" if len(missing) > 1 else "table"
        raise DatabaseAccessError(
            f"the database lacks the seeded {tables_word} {', '.join(missing)} "
            "(is its schema upgraded? alembic upgrade heads)"
        )
    return tables


def has_log_table(connection: Connection) -> bool:
    return sa.inspect(connection).has_table(LOG_TABLE)


# ---------------------------------------------------------------------------------------
# Checks.


@dataclass(frozen=True)
class EditedRevision:
    """An applied data revision whose change set is no longer the one that was applied."""

    revision: str
    applied_checksum: str
    current_checksum: str
    applied_at: datetime


def edited_revisions(
    applied: list[DataScript], log: list[LogEntry]
) -> tuple[list[EditedRevision], list[str]]:
    """Applied revisions whose checksum differs from their last logged upgrade; and the
    applied revisions that the log has no upgrade of (their checksum cannot be compared).

    A change set that can no longer be read counts as edited (its checksum is the reason).
    """
    last_upgrade: dict[str, LogEntry] = {}
    for entry in log:
        if entry.direction == "upgrade":
            last_upgrade[entry.revision] = entry
    edited: list[EditedRevision] = []
    unlogged: list[str] = []
    for script, data in applied:
        logged = last_upgrade.get(script.revision)
        if logged is None:
            unlogged.append(script.revision)
            continue
        try:
            checksum = data.checksum()
        except ChangeSetFormatError as error:
            checksum = f"unreadable ({error})"
        if checksum != logged.checksum:
            edited.append(
                EditedRevision(script.revision, logged.checksum, checksum, logged.applied_at)
            )
    return edited, unlogged


@dataclass(frozen=True)
class Drift:
    """How the database differs from the state the applied revisions produce.

    ``changes`` turns the database into that state: its inserts are rows missing from the
    database, its deletes rows the database has in excess, its updates rows that differ
    (``before`` the database's values, ``after`` the expected ones).
    """

    changes: ChangeSet
    expected: Dataset
    #: The database's rows of the tables that drifted (the others equal ``expected``).
    database: Dataset
    keys: dict[str, tuple[str, ...]]
    #: The data revisions the database has applied, oldest first.
    applied: list[DataScript]

    @functools.cached_property
    def _writers(self) -> dict[tuple[str, Key], str]:
        # Read only to name the revision of a drifted row: a database that has not
        # drifted never reads every change of every applied revision again.
        return writers(self.applied, self.keys)

    def writer(self, table: str, key: Key) -> str | None:
        """The last applied revision that wrote the row ``key`` of ``table``."""
        return self._writers.get((table, key))


def drift(
    connection: Connection,
    project: SeedsProject,
    scripts: ScriptDirectory,
    heads: tuple[str, ...],
    applied: list[DataScript],
) -> Drift:
    """The database at ``heads`` against what its history (``applied``: its data revisions)
    produces, replayed offline with the schema revisions in between."""
    keys = primary_keys(project.metadata, project.spec.tables())
    replayed = replay_under(scripts, heads, keys)
    expected = replayed.state
    # Where the schema revisions make every table, only those of the database's point of
    # the history must be there.
    tables = seeded_tables(connection, project, replayed.tables or None)
    changes, database = _against_database(connection, project, tables, expected, keys)
    return Drift(changes, expected, database, keys, applied)


def _against_database(
    connection: Connection,
    project: SeedsProject,
    tables: list[str],
    desired: Dataset,
    keys: dict[str, tuple[str, ...]],
) -> tuple[ChangeSet, Dataset]:
    """The changes that turn the database's ``tables`` into ``desired``, and the database's
    rows of the tables that differ.

    One table of the database at a time: a table without changes is let go of once
    compared (``desired`` names its rows as well), so that memory holds ``desired`` and
    one table, not a second copy of every row.
    """
    found: dict[str, TableChanges] = {}
    database: Dataset = {}
    for table, rows in read_tables(connection, project.metadata, tables):
        changes = diff({table: desired.get(table, {})}, {table: rows}, keys).tables
        if changes:
            found.update(changes)
            database[table] = rows
    # Tables of ``desired`` that the database is not read for: every row is missing.
    unread = {table: rows for table, rows in desired.items() if table not in tables}
    found.update(diff(unread, {}, keys).tables)
    return ChangeSet({table: found[table] for table in sorted(found)}), database


@dataclass
class DatabaseCheck:
    """What ``seeds check --db`` found in one database."""

    url: str
    heads: tuple[str, ...]
    #: Data revisions the database has applied (every branch), oldest first.
    applied: list[str]
    edited: list[EditedRevision] = field(default_factory=list)
    unlogged: list[str] = field(default_factory=list)
    #: Data revisions (every branch) that the database has not applied (yet).
    pending: list[str] = field(default_factory=list)
    drift: Drift | None = None
    #: Why there is no drift report: the applied revisions do not replay offline.
    replay_error: str | None = None

    @property
    def differences(self) -> bool:
        return bool(self.edited) or (self.drift is not None and bool(self.drift.changes))


def check_database(project: SeedsProject, url: str) -> DatabaseCheck:
    """Compare the database at ``url`` with the data revisions it has applied.

    Every branch counts: the seeded tables hold the rows of all of them.
    """
    scripts = ScriptDirectory.from_config(project.config)
    with read_only(url) as connection:
        heads = database_heads(connection)
        applied = applied_data_revisions(scripts, heads)
        log = entries(connection) if has_log_table(connection) else []
        edited, unlogged = edited_revisions(applied, log)
        applied_ids = [script.revision for script, _ in applied]
        every = data_revisions_under(scripts, tuple(scripts.get_heads()))
        result = DatabaseCheck(
            url=shown_url(url),
            heads=heads,
            applied=applied_ids,
            edited=edited,
            unlogged=unlogged,
            pending=[script.revision for script, _ in every if script.revision not in applied_ids],
        )
        try:
            result.drift = drift(connection, project, scripts, heads, applied)
        except ChangeSetError as error:
            result.replay_error = str(error)
    return result


@dataclass(frozen=True)
class DatabaseDiff:
    """``seeddata/`` against a live database: the changes that would make it ``seeddata/``."""

    changes: ChangeSet
    desired: Dataset
    #: The database's rows of the tables that differ (the others equal ``desired``).
    current: Dataset
    keys: dict[str, tuple[str, ...]]


def database_diff(project: SeedsProject, url: str) -> DatabaseDiff:
    """``seeddata/`` of ``project``'s branch, with the seed data it builds on, against the
    seeded tables of the database at ``url``."""
    loaded = load_seeddata(
        project.seeddata, project.spec, project.metadata, base=project.base_seeddata
    )
    keys = primary_keys(project.metadata, project.spec.tables())
    with read_only(url) as connection:
        tables = seeded_tables(connection, project)
        changes, current = _against_database(connection, project, tables, loaded.rows, keys)
    return DatabaseDiff(changes, loaded.rows, current, keys)


def database_rows(project: SeedsProject, url: str) -> Dataset:
    """Every row of the seeded tables of the database at ``url``."""
    with read_only(url) as connection:
        return read_seeded(connection, project)


def history(url: str) -> list[LogEntry] | None:
    """The log table's entries, oldest first; None when the database has no log table."""
    with read_only(url) as connection:
        if not has_log_table(connection):
            return None
        return entries(connection)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive value, as SQLite returns them, is taken to be UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
