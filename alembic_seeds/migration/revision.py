"""What a data revision script calls: ``DataRevision(...).upgrade()`` / ``.downgrade()``.

A data revision holds its change set inline (small) or in a sidecar file next to it
(large). Upgrading applies it; downgrading applies its inverse. Online, the apply engine
writes it set-based with drift checks; offline (``alembic upgrade --sql``), it renders
plain SQL. Each run is logged in the applied-revision log, in the revision's transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import context, op
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError

from alembic_seeds.apply.dialect import impl_for
from alembic_seeds.apply.engine import DriftPolicy, apply_changes
from alembic_seeds.apply.limits import index_limit_failure
from alembic_seeds.apply.offline import compile_offline, offline_statements
from alembic_seeds.apply.shapes import TableShape, shape_of, tables_at, unknown_to
from alembic_seeds.changes.changeset import ChangeSet, from_document
from alembic_seeds.changes.sidecar import read_sidecar
from alembic_seeds.errors import ApplyError
from alembic_seeds.migration.log import log_insert, record
from alembic_seeds.migration.progress import terminal_progress

logger = logging.getLogger("alembic_seeds")

#: Where ``migrations/env.py`` leaves the metadata of the seeded tables for revisions.
METADATA_ATTRIBUTE = "alembic_seeds.metadata"
DRIFT_OPTION = "seeds_drift"


class DataRevision:
    """The change set of one data revision, read when first needed."""

    def __init__(
        self,
        revision: str,
        module_file: str,
        *,
        changes: Mapping[str, Any] | None = None,
        sidecar: str | None = None,
    ) -> None:
        if (changes is None) == (sidecar is None):
            raise ValueError(f"data revision {revision}: give either changes or a sidecar")
        self.revision = revision
        self.module_file = Path(module_file)
        self._document = changes
        self.sidecar = self.module_file.with_name(sidecar) if sidecar else None
        self._changes: ChangeSet | None = None

    def change_set(self) -> ChangeSet:
        if self._changes is None:
            if self.sidecar is not None:
                self._changes = read_sidecar(self.sidecar)
            else:
                assert self._document is not None
                self._changes = from_document(self._document)
        return self._changes

    def upgrade(self) -> None:
        self._run(self.change_set(), "upgrade")

    def downgrade(self) -> None:
        self._run(self.change_set().inverse(), "downgrade")

    def _run(self, changes: ChangeSet, direction: str) -> None:
        migration = op.get_context()
        metadata = target_metadata()
        checksum = self.change_set().checksum()
        name = f"data revision {self.revision} ({direction})"
        connection = None if migration.as_sql else op.get_bind()
        started = time.perf_counter()
        try:
            if connection is None:
                render_offline(
                    migration,
                    metadata,
                    changes,
                    revision=self.revision,
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
        except (sa.exc.DBAPIError, psycopg.Error) as error:
            too_large = index_limit_failure(error, metadata, changes)
            if too_large is None:
                raise
            raise CommandError(f"{name}: {too_large}") from None
        logger.info("data revision %s (%s):", self.revision, direction)
        for line in report.lines():
            logger.info("  %s", line)
        for mismatch in report.mismatches:
            logger.warning("  %s: %s", report.policy, mismatch)
        duration_ms = (time.perf_counter() - started) * 1000
        record(
            connection,
            revision=self.revision,
            direction=direction,
            checksum=checksum,
            counts=report.counts(),
            duration_ms=duration_ms,
        )


def target_metadata() -> sa.MetaData:
    attributes = context.config.attributes
    metadata = attributes.get(METADATA_ATTRIBUTE)
    if isinstance(metadata, sa.MetaData):
        return metadata
    configured = op.get_context().opts.get("target_metadata")
    if isinstance(configured, sa.MetaData):
        return configured
    raise RuntimeError(
        "data revisions need the seeded tables' metadata: in env.py, call "
        "alembic_seeds.run_migrations(target_metadata=...) or make an "
        "alembic_seeds.SeedsEnvironment(target_metadata)"
    )


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
