"""Applying a ``ChangeSet`` to a database, set-based.

The plan (``apply.plan``) orders the work; this module carries it out with staging tables.
For every table with changes, the rows go into temporary staging tables in one bulk
statement (the dialect's: COPY on PostgreSQL, one executemany on SQLite); everything else
is one set-based statement per table and step. So the number of statements grows with the
number of tables, never with the number of rows.

First every table is staged and checked against the database (drift: rows that do not
match the change's before-image; conflicts: inserts that meet a different row). Only when
the checks allow it is anything written, in the plan's order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable

from alembic_seeds.apply import checks, rows, skip, writes
from alembic_seeds.apply.dialect import ApplyImpl, impl_for
from alembic_seeds.apply.drift import DriftPolicy, Mismatch
from alembic_seeds.apply.plan import Plan, TablePlan, build_plan
from alembic_seeds.apply.progress import EVERY_ROWS, Progress
from alembic_seeds.apply.report import ApplyReport, TableReport
from alembic_seeds.apply.shapes import live_shapes, tables_at, unknown_to
from alembic_seeds.apply.staging import Staging, staging_table
from alembic_seeds.apply.values import to_database
from alembic_seeds.changes.changeset import ChangeSet
from alembic_seeds.errors import ApplyError, DriftError, TableLockedError

__all__ = ["DriftPolicy", "Mismatch", "apply_changes"]


def apply_changes(
    connection: Connection,
    metadata: sa.MetaData,
    changes: ChangeSet,
    policy: DriftPolicy = DriftPolicy.ERROR,
    *,
    context: str = "",
    progress: Progress | None = None,
) -> ApplyReport:
    """Apply ``changes`` inside the connection's current transaction.

    ``progress`` is told, every few thousand rows of a bulk load, how far a table got.
    On any error the caller rolls the transaction back, staging tables included.
    """
    return _Apply(connection, metadata, changes, policy, context=context, progress=progress).run()


@dataclass
class _Staged:
    """The staging tables of one target table, and what the checks found."""

    plan: TablePlan
    report: TableReport
    inserts: Staging | None = None
    updates: Staging | None = None
    deletes: Staging | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    #: Only inserts, into a table that holds no rows: they go straight in, unstaged.
    direct: bool = False

    def drift(self, operation: str, *kinds: str) -> list[Mismatch]:
        return [
            m
            for m in self.mismatches
            if m.operation == operation and (not kinds or m.kind in kinds)
        ]

    def stagings(self) -> list[Staging]:
        return [s for s in (self.inserts, self.updates, self.deletes) if s is not None]


class _Apply:
    def __init__(
        self,
        connection: Connection,
        metadata: sa.MetaData,
        changes: ChangeSet,
        policy: DriftPolicy,
        *,
        context: str,
        progress: Progress | None,
    ) -> None:
        self.connection = connection
        self.metadata = metadata
        self.changes = changes
        self.policy = policy
        self.context = context
        self.progress = progress
        self.impl: ApplyImpl = impl_for(connection.dialect)
        self.staging_metadata = sa.MetaData()
        self.serial = 0

    def run(self) -> ApplyReport:
        started = time.perf_counter()
        # The tables as they are at this point of the history, which the models may not
        # describe (a column a later schema revision drops).
        with _named(self.context), self._counted() as reading:
            shapes = live_shapes(
                self.connection, self.metadata, unknown_to(self.metadata, self.changes)
            )
            metadata = tables_at(self.metadata, self.changes, shapes)
            plan = build_plan(metadata, self.changes, self.impl.defers)
            preparation = self.impl.before_writes(plan)
            self.impl.check_tables(self.connection, plan)
        reports = {table.name: TableReport(table.name) for table in plan.tables}
        empty = self._empty_tables(plan, reports)
        staged = [
            self._stage(table, reports[table.name], direct=table.name in empty)
            for table in plan.tables
        ]
        mismatches = [m for table in staged for m in table.mismatches]
        if mismatches and self.policy is DriftPolicy.ERROR:
            raise DriftError(mismatches, self.context)
        _refuse_drifted_rekeys(plan, mismatches, self.context)
        if mismatches and self.policy is DriftPolicy.SKIP:
            self._leave_kept_rows(plan, staged, mismatches)
        self._write(plan, staged, preparation)
        for table in staged:
            for staging in table.stagings():
                self._execute(table.report, self.impl.drop_staging(staging.table))
        return ApplyReport(
            tables=[table.report for table in staged],
            mismatches=[m for table in staged for m in table.mismatches],
            policy=self.policy.value,
            seconds=time.perf_counter() - started,
            reading_statements=reading[0],
        )

    @contextmanager
    def _counted(self) -> Iterator[list[int]]:
        """Count the statements sent meanwhile (reflection sends its own)."""
        count = [0]

        def listen(*_: Any) -> None:
            count[0] += 1

        sa.event.listen(self.connection, "before_cursor_execute", listen)
        try:
            yield count
        finally:
            sa.event.remove(self.connection, "before_cursor_execute", listen)

    # -- staging and checks ------------------------------------------------------------

    def _empty_tables(self, plan: Plan, reports: dict[str, TableReport]) -> set[str]:
        """Which tables that only get inserts hold no rows at all (their rows go straight
        in). One probe per table, so that a table someone keeps locked is named as such."""
        empty = set()
        for table in plan.tables:
            changes = table.changes
            if changes.updates or changes.deletes or table.self_references:
                continue
            probe = sa.select(~sa.exists(sa.select(sa.literal(1)).select_from(table.table)))
            if self._execute(reports[table.name], probe).scalar_one():
                empty.add(table.name)
        return empty

    def _stage(self, table: TablePlan, report: TableReport, direct: bool) -> _Staged:
        staged = _Staged(table, report, direct=direct)
        target, changes = table.table, table.changes
        keys = list(table.keys)
        with _timed(report):
            if changes.inserts and not direct:
                staging = self._staging(
                    report, target, table.insert_columns, depth=bool(table.self_references)
                )
                staged.inserts = staging
                self._fill(
                    report, staging.table, rows.insert_rows(table, staging), len(changes.inserts)
                )
                found = self._execute(report, checks.insert_check(staging)).all()
                mismatches, unchanged = checks.insert_mismatches(staging, found)
                staged.mismatches += mismatches
                report.unchanged += unchanged
            if changes.updates:
                changed = sorted({c for u in changes.updates for c in u.after})
                parked = sorted({c for p in table.park_updates.values() for c in p.columns})
                staging = self._staging(
                    report,
                    target,
                    keys + changed,
                    with_before=changed,
                    park=parked,
                    ordinal=bool(parked),
                )
                staged.updates = staging
                self._fill(
                    report, staging.table, rows.update_rows(table, staging), len(changes.updates)
                )
                found = self._execute(report, checks.update_check(staging)).all()
                staged.mismatches += checks.update_mismatches(staging, found)
            if changes.deletes:
                parked = sorted({c for p in table.park_deletes.values() for c in p.columns})
                staging = self._staging(
                    report,
                    target,
                    table.delete_columns,
                    park=parked,
                    ordinal=bool(parked),
                    early=bool(table.early),
                    depth=bool(table.self_references),
                )
                staged.deletes = staging
                self._fill(
                    report, staging.table, rows.delete_rows(table, staging), len(changes.deletes)
                )
                found = self._execute(report, checks.delete_check(staging)).all()
                staged.mismatches += checks.delete_mismatches(staging, found)
        return staged

    def _staging(
        self, report: TableReport, target: sa.Table, columns: list[str], **roles: Any
    ) -> Staging:
        self.serial += 1
        staging = staging_table(
            self.staging_metadata,
            self.serial,
            target,
            columns,
            column_type=self.impl.staging_type,
            **roles,
        )
        self._execute(report, CreateTable(staging.table))
        return staging

    def _fill(
        self, report: TableReport, table: sa.Table, rows: Iterator[dict[str, Any]], total: int
    ) -> None:
        """One bulk statement; ``rows`` are dicts by column name of ``table``."""
        report.statements += 1
        names = [column.name for column in table.columns]
        tuples: Iterator[tuple[Any, ...]] = (tuple(row[name] for name in names) for row in rows)
        if self.progress is not None:
            tuples = _reporting(self.progress, report.table, tuples, total)
        try:
            count = self.impl.fill(self.connection, table, tuples)
        except Exception as error:
            if self.impl.is_lock_timeout(error):
                raise TableLockedError(report.table, self.context) from error
            raise
        if table.name.startswith("seeds_staging_"):
            for statement in self.impl.after_fill(table, count):
                self._execute(report, statement)

    # -- skip --------------------------------------------------------------------------

    def _leave_kept_rows(
        self, plan: Plan, staged: list[_Staged], mismatches: list[Mismatch]
    ) -> None:
        """Take the rows skip leaves (drifted, and the deletes that depend on them) out of
        the staging tables, so that no write reaches them."""
        dependent = skip.dependents(plan, mismatches)
        by_table = {table.plan.name: table for table in staged}
        for mismatch in dependent:
            by_table[mismatch.table].mismatches.append(mismatch)
        skip.refuse_colliding(plan, [*mismatches, *dependent], self.context)
        for table in staged:
            for operation, staging in (("update", table.updates), ("delete", table.deletes)):
                left = table.drift(operation, "changed", "dependent")
                if staging is None or not left:
                    continue
                key = staging.value
                statement = staging.table.delete().where(
                    *(
                        key[k] == sa.bindparam(f"key_{i}", type_=key[k].type)
                        for i, k in enumerate(staging.keys)
                    )
                )
                self._execute(
                    table.report,
                    statement,
                    [
                        {
                            f"key_{i}": to_database(table.plan.table.c[k], m.key[k])
                            for i, k in enumerate(staging.keys)
                        }
                        for m in left
                    ],
                )

    # -- writes ------------------------------------------------------------------------

    def _write(self, plan: Plan, staged: list[_Staged], preparation: list[sa.Executable]) -> None:
        if not staged:
            return
        for statement in preparation:
            self._execute(staged[0].report, statement)
        for table in staged:
            self._account(table)
        for table in staged:
            with _timed(table.report):
                for staging, parks in (
                    (table.updates, table.plan.park_updates),
                    (table.deletes, table.plan.park_deletes),
                ):
                    if staging is not None and parks:
                        self._execute(table.report, writes.park(table.plan, staging))
        for table in staged:
            if table.plan.rekeys:
                with _timed(table.report):
                    self._execute(table.report, writes.rekey(table.plan))
                # The re-key is the insert and the delete of the change set.
                table.report.inserted += len(table.plan.rekeys)
                table.report.deleted += len(table.plan.rekeys)
        for table in reversed(staged):
            if table.deletes is not None and table.plan.early:
                with _timed(table.report):
                    self._delete(table, early=True)
        for table in staged:
            with _timed(table.report):
                self._insert(table)
                if table.updates is not None:
                    self._execute(table.report, writes.update(table.updates))
        for table in reversed(staged):
            if table.deletes is not None:
                with _timed(table.report):
                    self._delete(table, early=False if table.plan.early else None)
        for table in staged:
            column = table.plan.sequence
            if column is not None and table.report.inserted:
                reset = self.impl.sequence_reset(table.plan.table, column)
                if reset is not None:
                    with _timed(table.report):
                        self._execute(table.report, reset)

    def _insert(self, table: _Staged) -> None:
        report, changes = table.report, table.plan.changes
        if table.direct and changes.inserts:
            target = rows.written_part(table.plan.table, table.plan.insert_columns)
            self._fill(report, target, rows.target_rows(table.plan), len(changes.inserts))
            report.inserted += len(changes.inserts)
        if table.inserts is None:
            return
        result = self._execute(report, writes.insert(table.inserts))
        report.inserted += max(result.rowcount, 0)
        conflicts = table.drift("insert")
        if conflicts and self.policy is DriftPolicy.OVERWRITE:
            self._execute(report, writes.overwrite(table.inserts))
            report.overwritten += len(conflicts)
        else:
            report.skipped += len(conflicts)

    def _delete(self, table: _Staged, early: bool | None) -> None:
        assert table.deletes is not None
        depths = table.plan.delete_depth
        levels: list[int | None] = list(range(max(depths.values()), -1, -1)) if depths else [None]
        for level in levels:
            result = self._execute(table.report, writes.delete(table.deletes, early, level))
            table.report.deleted += max(result.rowcount, 0)

    def _account(self, table: _Staged) -> None:
        """Count what the writes leave undone or overwrite, once for all their steps."""
        report = table.report
        drifted = table.drift("update")
        missing = [m for m in drifted if m.kind == "missing"]
        if self.policy is DriftPolicy.SKIP:
            report.skipped += len(drifted)
            not_written = len(drifted)
        else:
            report.overwritten += len(drifted) - len(missing)
            report.skipped += len(missing)
            not_written = len(missing)
        report.updated += len(table.plan.changes.updates) - not_written
        changed = table.drift("delete", "changed")
        if self.policy is DriftPolicy.SKIP:
            report.skipped += len(changed) + len(table.drift("delete", "dependent"))
        else:
            report.overwritten += len(changed)
        report.skipped += len(table.drift("delete", "missing"))

    # -- plumbing ----------------------------------------------------------------------

    def _execute(
        self, report: TableReport | None, statement: Any, parameters: Any = None
    ) -> sa.CursorResult[Any]:
        if report is not None:
            report.statements += 1
        # Row counts of INSERT ... SELECT are only kept when asked for.
        options = {"preserve_rowcount": True}
        try:
            if parameters is None:
                return self.connection.execute(statement, execution_options=options)
            return self.connection.execute(statement, parameters, execution_options=options)
        except sa.exc.OperationalError as error:
            if report is not None and self.impl.is_lock_timeout(error):
                raise TableLockedError(report.table, self.context) from error
            raise


def _refuse_drifted_rekeys(plan: Plan, mismatches: list[Mismatch], context: str) -> None:
    """A re-key is one update of the key: neither skipping nor overwriting one of its two
    rows (the delete of the old key, the insert of the new) can be carried out on it."""
    for table in plan.tables:
        if not table.rekeys:
            continue
        olds = set(table.rekeys)
        news = set(table.rekeys.values())
        for mismatch in mismatches:
            key = (
                tuple(mismatch.key[k] for k in table.keys) if mismatch.table == table.name else None
            )
            if key is not None and (key in olds or key in news):
                shown = ", ".join(f"{k}={v!r}" for k, v in mismatch.key.items())
                prefix = f"{context}: " if context else ""
                raise ApplyError(
                    f"{prefix}{table.name} {shown}: {mismatch.kind} in the database, and the "
                    "change set re-keys it (written as one update of its key), which drift "
                    "overwrite or skip cannot split; nothing was written: put the row back as "
                    "the revision expects it, or write the re-key in a revision of its own"
                )


@contextmanager
def _named(context: str) -> Iterator[None]:
    """Prefix a plan's failure with the revision it belongs to."""
    try:
        yield
    except ApplyError as error:
        if not context:
            raise
        raise ApplyError(f"{context}: {error}") from error


@contextmanager
def _timed(report: TableReport) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        report.seconds += time.perf_counter() - started


def _reporting(
    progress: Progress, table: str, rows: Iterator[tuple[Any, ...]], total: int
) -> Iterator[tuple[Any, ...]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % EVERY_ROWS == 0:
            progress(table, done, max(total, done))
    if done >= EVERY_ROWS:
        progress(table, done, done)
