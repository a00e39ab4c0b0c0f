"""What a data revision script calls: ``DataRevision(...).upgrade()`` / ``.downgrade()``.

A data revision holds its change set inline (small) or in a sidecar file next to it
(large). Upgrading applies it; downgrading applies its inverse. Online, the apply engine
writes it set-based with drift checks; offline (``alembic upgrade --sql``), it renders
plain SQL. Each run is logged in the applied-revision log, in the revision's transaction.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

from alembic_seeds.apply.engine import DriftPolicy, apply_changes
from alembic_seeds.apply.limits import index_limit_failure
from alembic_seeds.apply.order import parents_first
from alembic_seeds.apply.progress import terminal_progress
from alembic_seeds.apply.values import to_database
from alembic_seeds.changes.changeset import ChangeSet, from_document
from alembic_seeds.changes.sidecar import read_sidecar
from alembic_seeds.errors import ApplyError
from alembic_seeds.migration.log import log_table, record

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
        if migration.as_sql:
            _render_offline(metadata, changes)
            op.execute(_log_insert(self.revision, direction, checksum, changes))
            return
        connection = op.get_bind()
        started = time.perf_counter()
        try:
            report = apply_changes(
                connection,
                metadata,
                changes,
                drift_policy(),
                context=f"data revision {self.revision} ({direction})",
                progress=terminal_progress(),
            )
        except ApplyError as error:
            # Alembic prints a CommandError as one FAILED message, without a traceback.
            raise CommandError(str(error)) from error
        except (sa.exc.DBAPIError, psycopg.Error) as error:
            too_large = index_limit_failure(error, metadata, changes)
            if too_large is None:
                raise
            raise CommandError(
                f"data revision {self.revision} ({direction}): {too_large}"
            ) from None
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


def _render_offline(metadata: sa.MetaData, changes: ChangeSet) -> None:
    """Plain SQL for ``--sql``: one statement per row, parents first, deletes last."""
    order = parents_first(metadata, [name for name, c in changes.tables.items() if c])
    if op.get_context().dialect.name == "postgresql":
        op.execute("SET CONSTRAINTS ALL DEFERRED")
    for name in order:
        table = metadata.tables[name]
        keys = [c.name for c in table.primary_key]
        table_changes = changes.tables[name]
        for row in table_changes.inserts:
            op.execute(table.insert().values(_database_row(table, row)))
        for update in table_changes.updates:
            op.execute(
                table.update()
                .where(*(table.c[k] == to_database(table.c[k], update.key[k]) for k in keys))
                .values(_database_row(table, update.after))
            )
    for name in reversed(order):
        table = metadata.tables[name]
        keys = [c.name for c in table.primary_key]
        for row in changes.tables[name].deletes:
            op.execute(
                table.delete().where(*(table.c[k] == to_database(table.c[k], row[k]) for k in keys))
            )


def _database_row(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {column: to_database(table.c[column], value) for column, value in row.items()}


def _log_insert(revision: str, direction: str, checksum: str, changes: ChangeSet) -> Any:
    return log_table.insert().values(
        revision=revision,
        direction=direction,
        checksum=checksum,
        applied_at=datetime.now(UTC),
        counts=json.dumps(changes.counts(), sort_keys=True),
        duration_ms=0.0,
    )
