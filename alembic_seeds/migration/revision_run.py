"""Running one data revision in an Alembic run: online, the apply engine writes its change set
set-based with drift checks; offline (``alembic upgrade --sql``), it renders plain SQL. Each
run is logged in the applied-revision log, in the revision's transaction.

Imported by ``DataRevision`` only when a revision is upgraded or downgraded: the apply engine
and the database driver are not what ``alembic current`` should pay for.
"""

from __future__ import annotations

import logging
import sys
import time

import sqlalchemy as sa
from alembic import context, op
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError

from alembic_seeds.apply.dialect import impl_for
from alembic_seeds.apply.engine import DriftPolicy, apply_changes
from alembic_seeds.apply.offline import compile_offline, offline_statements
from alembic_seeds.apply.shapes import TableShape, shape_of, tables_at, unknown_to
from alembic_seeds.changes.changeset import ChangeSet
from alembic_seeds.errors import ApplyError
from alembic_seeds.migration.environment import project_metadata
from alembic_seeds.migration.log import log_insert, record
from alembic_seeds.migration.progress import terminal_progress

logger = logging.getLogger("alembic_seeds")

DRIFT_OPTION = "seeds_drift"


def run_revision(revision: str, changes: ChangeSet, *, direction: str, checksum: str) -> None:
    """Apply ``changes`` (offline: write their SQL) as data revision ``revision``."""
    migration = op.get_context()
    metadata = project_metadata()
    name = f"data revision {revision} ({direction})"
    connection = None if migration.as_sql else op.get_bind()
    started = time.perf_counter()
    try:
        if connection is None:
            render_offline(
                migration,
                metadata,
                changes,
                revision=revision,
                direction=direction,
                checksum=checksum,
            )
            return
        report = apply_changes(
            connection,
            metadata,
            changes,
            drift_policy(),
            context=name,
            progress=terminal_progress(),
        )
    except ApplyError as error:
        # Alembic prints a CommandError as one FAILED message, without a traceback.
        message = str(error) if str(error).startswith(name) else f"{name}: {error}"
        raise CommandError(message) from error
    except Exception as error:
        if not _database_error(error):
            raise
        # Imported here: it reads index sizes, only ever wanted when a write failed.
        from alembic_seeds.apply.limits import index_limit_failure  # noqa: PLC0415

        too_large = index_limit_failure(error, metadata, changes)
        if too_large is None:
            raise
        raise CommandError(f"{name}: {too_large}") from None
    logger.info("data revision %s (%s):", revision, direction)
    for line in report.lines():
        logger.info("  %s", line)
    for mismatch in report.mismatches:
        logger.warning("  %s: %s", report.policy, mismatch)
    duration_ms = (time.perf_counter() - started) * 1000
    record(
        connection,
        revision=revision,
        direction=direction,
        checksum=checksum,
        counts=report.counts(),
        duration_ms=duration_ms,
    )


def _database_error(error: Exception) -> bool:
    """An error of the database: SQLAlchemy's, or psycopg's own (COPY talks to the driver
    directly). psycopg is looked up, not imported: when nothing loaded it (SQLite), nothing
    raised its errors either, and an upgrade there does not pay for importing it."""
    if isinstance(error, sa.exc.DBAPIError):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.Error)


def drift_policy() -> DriftPolicy:
    value = context.get_x_argument(as_dictionary=True).get(DRIFT_OPTION, DriftPolicy.ERROR.value)
    try:
        return DriftPolicy(value)
    except ValueError:
        choices = ", ".join(policy.value for policy in DriftPolicy)
        raise CommandError(f"-x {DRIFT_OPTION}={value}: expected one of {choices}") from None


def render_offline(
    migration: MigrationContext,
    metadata: sa.MetaData,
    changes: ChangeSet,
    *,
    revision: str,
    direction: str,
    checksum: str,
) -> None:
    """Write the plain SQL of ``changes`` and its log row to the context's output.

    The SQL is compiled here and written as it is: Alembic's own ``execute`` would expand
    tabs, and a driver's parameter style would double every ``%`` of a text.
    """
    impl = impl_for(migration.dialect)
    terminator = migration.impl.command_terminator
    tables = offline_tables(migration, metadata, changes, revision)
    statements = [
        *offline_statements(tables, changes, impl),
        log_insert(
            revision=revision, direction=direction, checksum=checksum, counts=changes.counts()
        ),
    ]
    for statement in statements:
        migration.impl.static_output(compile_offline(statement, impl) + terminator)


def offline_tables(
    migration: MigrationContext, metadata: sa.MetaData, changes: ChangeSet, revision: str
) -> sa.MetaData:
    """The tables offline SQL of ``revision`` writes into, as they are at its point of the
    history: the models, unless the change set names a table or column they lack (one that
    a later schema revision drops or renames); then as the schema revisions below it make
    them, recorded with the run's dialect."""
    unknown = unknown_to(metadata, changes)
    if not unknown:
        return metadata
    shapes: dict[str, TableShape | None] = {
        name: shape_of(table) for name, table in metadata.tables.items()
    }
    if migration.script is not None:
        # Imported here: replay imports this module (DataRevision).
        from alembic_seeds.migration.replay import shapes_at  # noqa: PLC0415

        recorded = shapes_at(migration.script, revision, migration.dialect.name)
        shapes.update({name: recorded.get(name) for name in unknown})
    return tables_at(metadata, changes, shapes)
