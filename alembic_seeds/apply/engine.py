"""Applying a ``ChangeSet`` to a database, set-based.

For every table with changes, the rows go into temporary staging tables in one bulk
statement (COPY on PostgreSQL, one executemany elsewhere); everything else is one
set-based statement per table and kind of change. So the number of statements grows with
the number of tables, never with the number of rows.

First every table is staged and checked against the database (drift: rows that do not
match the change's before-image; conflicts: inserts that meet a different row). Only when
the checks allow it is anything written: inserts and updates parents first, then deletes
children first.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql as psycopg_sql
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable, DropTable

from alembic_seeds.apply.order import parents_first
from alembic_seeds.apply.progress import EVERY_ROWS, Progress
from alembic_seeds.apply.report import ApplyReport, TableReport
from alembic_seeds.apply.values import from_database, to_database
from alembic_seeds.changes.changeset import ChangeSet, Row, TableChanges, same_value
from alembic_seeds.errors import DriftError, TableLockedError

#: Staging tables at least this large get fresh planner statistics before they are joined.
ANALYZE_MIN_ROWS = 1000


class DriftPolicy(enum.StrEnum):
    """What to do with rows that are not as the change set expects them."""

    ERROR = "error"  # stop before writing anything (the default)
    OVERWRITE = "overwrite"  # write the change set's values anyway
    SKIP = "skip"  # leave those rows as they are, apply the rest


@dataclass(frozen=True)
class Mismatch:
    """A row of the database that differs from what a change expects."""

    table: str
    key: Row
    kind: str  # "conflict" (insert meets another row), "changed" or "missing"
    columns: tuple[tuple[str, Any, Any], ...] = ()  # (column, database value, expected value)
    operation: str = "insert"  # the change it stands in the way of

    def __str__(self) -> str:
        key = ", ".join(f"{name}={value!r}" for name, value in self.key.items())
        if self.kind == "missing":
            return f"{self.table} {key}: row is missing from the database"
        what = "insert meets a different row" if self.kind == "conflict" else "row was changed"
        details = "; ".join(
            f"{column}: database has {db!r}, expected {want!r}" for column, db, want in self.columns
        )
        return f"{self.table} {key}: {what}: {details}"


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
    """
    return _Apply(connection, metadata, changes, policy, context=context, progress=progress).run()


@dataclass
class _Staged:
    """The staging tables of one target table, and what the checks found."""

    target: sa.Table
    changes: TableChanges
    report: TableReport
    inserts: sa.Table | None = None
    updates: sa.Table | None = None
    deletes: sa.Table | None = None
    update_columns: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    #: Only inserts, into a table that holds no rows: they go straight in, unstaged.
    direct: bool = False

    def drift(self, operation: str) -> list[Mismatch]:
        return [m for m in self.mismatches if m.operation == operation]


class _Apply:
    def __init__(
        self,
        connection: Connection,
        metadata: sa.MetaData,
        changes: ChangeSet,
        policy: DriftPolicy,
        *,
        context: str,
        progress: Progress | None = None,
    ) -> None:
        self.progress = progress
        self.connection = connection
        self.metadata = metadata
        self.changes = changes
        self.policy = policy
        self.context = context
        self.postgresql = connection.dialect.name == "postgresql"
        self.staging_metadata = sa.MetaData()
        self.serial = 0
        self._reports: dict[str, TableReport] = {}

    def run(self) -> ApplyReport:
        started = time.perf_counter()
        for name in self.changes.tables:
            if name not in self.metadata.tables:
                raise KeyError(f"change set names table {name!r}, which the metadata lacks")
        order = parents_first(self.metadata, [n for n, c in self.changes.tables.items() if c])
        # On any error the caller rolls the transaction back, staging tables included.
        empty = self._empty_tables(
            [
                n
                for n in order
                if not self.changes.tables[n].updates and not self.changes.tables[n].deletes
            ]
        )
        staged = [self._stage(name, direct=name in empty) for name in order]
        mismatches = [m for table in staged for m in table.mismatches]
        if mismatches and self.policy is DriftPolicy.ERROR:
            raise DriftError(mismatches, self.context)
        self._write(staged)
        for table in staged:
            self._drop_staging(table)
        return ApplyReport(
            tables=[table.report for table in staged],
            mismatches=[m for table in staged for m in table.mismatches],
            policy=self.policy.value,
            seconds=time.perf_counter() - started,
        )

    # -- staging and checks ------------------------------------------------------------

    def _empty_tables(self, names: list[str]) -> set[str]:
        """Which of ``names`` hold no rows at all.

        One probe per table, so that a table someone keeps locked is named as such.
        """
        empty = set()
        for name in names:
            table = self.metadata.tables[name]
            report = self._reports.setdefault(name, TableReport(name))
            probe = sa.select(~sa.exists(sa.select(sa.literal(1)).select_from(table)))
            if self._execute(report, probe).scalar_one():
                empty.add(name)
        return empty

    def _stage(self, name: str, direct: bool) -> _Staged:
        target = self.metadata.tables[name]
        changes = self.changes.tables[name]
        report = self._reports.setdefault(name, TableReport(name))
        staged = _Staged(target, changes, report, direct=direct)
        with self._timed(staged.report):
            if changes.inserts and not direct:
                staged.inserts = self._staging_table(
                    staged.report, target, target.columns.keys(), ()
                )
                self._fill(
                    staged,
                    staged.inserts,
                    (self._full_row(target, r) for r in changes.inserts),
                    len(changes.inserts),
                )
                self._check_inserts(staged)
            if changes.updates:
                columns = sorted({c for u in changes.updates for c in u.after})
                staged.update_columns = columns
                keys = [c.name for c in target.primary_key]
                staged.updates = self._staging_table(staged.report, target, keys + columns, columns)
                self._fill(
                    staged,
                    staged.updates,
                    self._update_rows(target, changes, keys, columns),
                    len(changes.updates),
                )
                self._check_updates(staged)
            if changes.deletes:
                staged.deletes = self._staging_table(
                    staged.report, target, target.columns.keys(), ()
                )
                self._fill(
                    staged,
                    staged.deletes,
                    (self._full_row(target, r) for r in changes.deletes),
                    len(changes.deletes),
                )
                self._check_deletes(staged)
        return staged

    def _staging_table(
        self,
        report: TableReport,
        target: sa.Table,
        columns: Sequence[str],
        with_before: Sequence[str],
    ) -> sa.Table:
        """A temporary table with a column ``v<i>`` per target column (new value) and,
        for updates, ``b<i>`` (value before) and ``s<i>`` (changed or not).

        Names are generated, never taken from the target, so no name reaches SQL unquoted.
        """
        self.serial += 1
        staging_columns: list[sa.Column[Any]] = []
        for column_name in columns:
            index = target.columns.keys().index(column_name)
            column_type = _staging_type(target.c[column_name].type)
            staging_columns.append(sa.Column(f"v{index}", column_type, key=column_name))
            if column_name in with_before:
                staging_columns.append(
                    sa.Column(
                        f"b{index}",
                        _staging_type(target.c[column_name].type),
                        key=f"before:{column_name}",
                    )
                )
                staging_columns.append(sa.Column(f"s{index}", sa.Boolean, key=f"set:{column_name}"))
        table = sa.Table(
            f"seeds_staging_{self.serial}",
            self.staging_metadata,
            *staging_columns,
            prefixes=["TEMPORARY"],
        )
        self._execute(report, CreateTable(table))
        return table

    def _fill(
        self, staged: _Staged, table: sa.Table, rows: Iterator[dict[str, Any]], total: int
    ) -> None:
        """One bulk statement: COPY on PostgreSQL, one driver-level executemany elsewhere.

        ``rows`` are dicts by column key of ``table`` (a staging table or, for rows that go
        straight in, the target itself).
        """
        columns = list(table.columns)
        keys = [c.name if table is staged.target else c.key for c in columns]
        staged.report.statements += 1
        if self.progress is not None:
            rows = self._reporting(staged.report.table, rows, total)
        if self.postgresql:
            count = self._copy(staged.report, table, keys, rows)
            if table is not staged.target and count >= ANALYZE_MIN_ROWS:
                # Fresh statistics keep the planner from a nested loop over a table it
                # believes tiny (the trap of set-based diffs right after a bulk load).
                self._execute(staged.report, sa.text(f"ANALYZE {self._quoted(table)}"))
            return
        dialect = self.connection.dialect
        processors = [c.type.bind_processor(dialect) for c in columns]
        names = ", ".join(self._quote(c.name) for c in columns)
        marks = ", ".join("?" for _ in columns)
        batch = [
            tuple(
                value if process is None else process(value)
                for process, value in zip(processors, (row[key] for key in keys), strict=True)
            )
            for row in rows
        ]
        # The driver's executemany (SQLite): one prepared statement, however many rows.
        self.connection.exec_driver_sql(
            f"INSERT INTO {self._quoted(table)} ({names}) VALUES ({marks})", batch
        )

    def _reporting(
        self, table: str, rows: Iterator[dict[str, Any]], total: int
    ) -> Iterator[dict[str, Any]]:
        assert self.progress is not None
        done = 0
        for row in rows:
            yield row
            done += 1
            if done % EVERY_ROWS == 0:
                self.progress(table, done, max(total, done))
        if done >= EVERY_ROWS:
            self.progress(table, done, done)

    def _copy(
        self, report: TableReport, table: sa.Table, keys: list[str], rows: Iterator[dict[str, Any]]
    ) -> int:
        driver = self.connection.connection.driver_connection
        assert driver is not None
        # psycopg quotes the names itself: the statement goes to the driver as it is.
        name = (
            psycopg_sql.Identifier(table.schema, table.name)
            if table.schema
            else psycopg_sql.Identifier(table.name)
        )
        statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
            name, psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(c.name) for c in table.columns)
        )
        count = 0
        try:
            with driver.cursor() as cursor, cursor.copy(statement.as_string(cursor)) as copy:
                for row in rows:
                    copy.write_row([row[key] for key in keys])
                    count += 1
        except psycopg.errors.LockNotAvailable as error:
            raise TableLockedError(report.table, self.context) from error
        return count

    def _full_row(self, target: sa.Table, row: Row) -> dict[str, Any]:
        """Values by column name (also the key of the staging column that holds them)."""
        return {c.name: to_database(c, row.get(c.name)) for c in target.columns}

    def _update_rows(
        self, target: sa.Table, changes: TableChanges, keys: list[str], columns: list[str]
    ) -> Iterator[dict[str, Any]]:
        for update in changes.updates:
            row: dict[str, Any] = {k: to_database(target.c[k], update.key[k]) for k in keys}
            for column in columns:
                changed = column in update.after
                row[column] = to_database(target.c[column], update.after.get(column))
                row[f"before:{column}"] = to_database(target.c[column], update.before.get(column))
                row[f"set:{column}"] = changed
            yield row

    def _matches(self, target: sa.Table, staging: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(*(target.c[c.name] == staging.c[c.name] for c in target.primary_key))

    def _check_inserts(self, staged: _Staged) -> None:
        target, staging = staged.target, staged.inserts
        assert staging is not None
        differs = _differs(target, staging)
        found = self._execute(
            staged.report,
            sa.select(
                *(staging.c[c.name].label(f"new_{i}") for i, c in enumerate(target.columns)),
                *(target.c[c.name].label(f"db_{i}") for i, c in enumerate(target.columns)),
                differs.label("differs"),
            ).select_from(staging.join(target, self._matches(target, staging))),
        ).all()
        for row in found:
            if not row.differs:
                staged.report.unchanged += 1
                continue
            staged.mismatches.append(self._mismatch(target, row, "conflict", "insert"))

    def _check_updates(self, staged: _Staged) -> None:
        target, staging = staged.target, staged.updates
        assert staging is not None
        keys = [c.name for c in target.primary_key]
        drifted = sa.or_(
            target.c[keys[0]].is_(None),
            *(
                sa.and_(
                    staging.c[f"set:{column}"],
                    target.c[column].is_distinct_from(staging.c[f"before:{column}"]),
                )
                for column in staged.update_columns
            ),
        )
        found = self._execute(
            staged.report,
            sa.select(
                *(staging.c[k].label(f"key_{k}") for k in keys),
                target.c[keys[0]].label("present"),
                *(
                    staging.c[f"set:{c}"].label(f"set_{i}")
                    for i, c in enumerate(staged.update_columns)
                ),
                *(
                    staging.c[f"before:{c}"].label(f"before_{i}")
                    for i, c in enumerate(staged.update_columns)
                ),
                *(target.c[c].label(f"db_{i}") for i, c in enumerate(staged.update_columns)),
            )
            .select_from(staging.outerjoin(target, self._matches(target, staging)))
            .where(drifted),
        ).all()
        for row in found:
            key = {k: from_database(target.c[k], getattr(row, f"key_{k}")) for k in keys}
            if row.present is None:
                staged.mismatches.append(Mismatch(target.name, key, "missing", operation="update"))
                continue
            columns = tuple(
                (
                    column,
                    from_database(target.c[column], getattr(row, f"db_{i}")),
                    from_database(target.c[column], getattr(row, f"before_{i}")),
                )
                for i, column in enumerate(staged.update_columns)
                if getattr(row, f"set_{i}")
                and not same_value(
                    from_database(target.c[column], getattr(row, f"db_{i}")),
                    from_database(target.c[column], getattr(row, f"before_{i}")),
                )
            )
            staged.mismatches.append(Mismatch(target.name, key, "changed", columns, "update"))

    def _check_deletes(self, staged: _Staged) -> None:
        target, staging = staged.target, staged.deletes
        assert staging is not None
        keys = [c.name for c in target.primary_key]
        drifted = sa.or_(target.c[keys[0]].is_(None), _differs(target, staging))
        found = self._execute(
            staged.report,
            sa.select(
                *(staging.c[c.name].label(f"new_{i}") for i, c in enumerate(target.columns)),
                *(target.c[c.name].label(f"db_{i}") for i, c in enumerate(target.columns)),
                target.c[keys[0]].label("present"),
            )
            .select_from(staging.outerjoin(target, self._matches(target, staging)))
            .where(drifted),
        ).all()
        for row in found:
            if row.present is None:
                key = {
                    k: from_database(
                        target.c[k], getattr(row, f"new_{target.columns.keys().index(k)}")
                    )
                    for k in keys
                }
                staged.mismatches.append(Mismatch(target.name, key, "missing", operation="delete"))
            else:
                staged.mismatches.append(self._mismatch(target, row, "changed", "delete"))

    def _mismatch(self, target: sa.Table, row: Any, kind: str, operation: str) -> Mismatch:
        columns = list(target.columns)
        key = {
            c.name: from_database(c, getattr(row, f"new_{columns.index(c)}"))
            for c in target.primary_key
        }
        differing = []
        for i, column in enumerate(columns):
            if column.primary_key:
                continue
            db = from_database(column, getattr(row, f"db_{i}"))
            want = from_database(column, getattr(row, f"new_{i}"))
            if not same_value(db, want):
                differing.append((column.name, db, want))
        return Mismatch(target.name, key, kind, tuple(differing), operation)

    # -- writes ------------------------------------------------------------------------

    def _write(self, staged: list[_Staged]) -> None:
        """Write in an order the constraints allow, re-keyed rows included.

        A re-key (same content, new id) inserts a row whose unique values the old row still
        holds, repoints the children, and deletes the old row, which RESTRICT allows only
        once nothing refers to it. PostgreSQL defers the unique constraints (declared
        DEFERRABLE): inserts and updates parents first, then deletes children first.
        SQLite cannot defer unique constraints but can defer foreign keys: updates of
        other columns first (they may point at rows inserted later), then deletes, then
        updates of unique columns (which may take values the deletes freed), then inserts.
        """
        if not staged:
            return
        first = staged[0].report
        for table in staged:
            self._account_updates(table)
        if self.postgresql:
            self._execute(first, sa.text("SET CONSTRAINTS ALL DEFERRED"))
            for table in staged:
                self._write_inserts(table)
                self._write_updates(table)
            for table in reversed(staged):
                self._write_deletes(table)
            return
        self._execute(first, sa.text("PRAGMA defer_foreign_keys = ON"))
        for table in staged:
            self._write_updates(table, unique=False)
        for table in reversed(staged):
            self._write_deletes(table)
        for table in staged:
            self._write_updates(table, unique=True)
        for table in staged:
            self._write_inserts(table)

    def _write_inserts(self, staged: _Staged) -> None:
        target = staged.target
        with self._timed(staged.report):
            if staged.direct and staged.changes.inserts:
                rows = (self._full_row(target, r) for r in staged.changes.inserts)
                self._fill(staged, target, rows, len(staged.changes.inserts))
                staged.report.inserted += len(staged.changes.inserts)
            if staged.inserts is not None:
                staging = staged.inserts
                exists = sa.exists().where(self._matches(target, staging))
                result = self._execute(
                    staged.report,
                    target.insert().from_select(
                        list(target.columns.keys()),
                        sa.select(*(staging.c[c.name] for c in target.columns)).where(~exists),
                    ),
                )
                staged.report.inserted += max(result.rowcount, 0)
                conflicts = staged.drift("insert")
                if conflicts and self.policy is DriftPolicy.OVERWRITE:
                    values = {
                        c.name: staging.c[c.name] for c in target.columns if not c.primary_key
                    }
                    # Only the conflicting rows: the adopted ones are identical already.
                    self._execute(
                        staged.report,
                        target.update()
                        .where(self._matches(target, staging), _differs(target, staging))
                        .values(values),
                    )
                    staged.report.overwritten += len(conflicts)
                else:
                    staged.report.skipped += len(conflicts)

    def _write_updates(self, staged: _Staged, unique: bool | None = None) -> None:
        """One UPDATE ... FROM staging for the table's updates.

        ``unique`` limits it to the columns under a unique constraint (True) or to the
        others (False); None writes every changed column.
        """
        if staged.updates is None:
            return
        target, staging = staged.target, staged.updates
        constrained = _unique_columns(target)
        columns = [
            column
            for column in staged.update_columns
            if unique is None or (column in constrained) == unique
        ]
        if not columns:
            return
        with self._timed(staged.report):
            condition = sa.and_(
                self._matches(target, staging),
                sa.or_(*(staging.c[f"set:{column}"] for column in columns)),
            )
            if self.policy is DriftPolicy.SKIP and staged.drift("update"):
                condition = sa.and_(
                    condition,
                    *(
                        sa.or_(
                            ~staging.c[f"set:{column}"],
                            target.c[column].is_not_distinct_from(staging.c[f"before:{column}"]),
                        )
                        for column in staged.update_columns
                    ),
                )
            values = {
                column: sa.case(
                    (staging.c[f"set:{column}"], staging.c[column]), else_=target.c[column]
                )
                for column in columns
            }
            self._execute(staged.report, target.update().where(condition).values(values))

    def _account_updates(self, staged: _Staged) -> None:
        """Count what the update statements did, once for all their phases."""
        drifted = staged.drift("update")
        missing = [m for m in drifted if m.kind == "missing"]
        if self.policy is DriftPolicy.SKIP:
            staged.report.skipped += len(drifted)
            not_written = len(drifted)
        else:
            staged.report.overwritten += len(drifted) - len(missing)
            staged.report.skipped += len(missing)
            not_written = len(missing)
        staged.report.updated += len(staged.changes.updates) - not_written

    def _write_deletes(self, staged: _Staged) -> None:
        if staged.deletes is None:
            return
        target, staging = staged.target, staged.deletes
        with self._timed(staged.report):
            condition = self._matches(target, staging)
            drifted = [m for m in staged.drift("delete") if m.kind == "changed"]
            if drifted and self.policy is DriftPolicy.SKIP:
                condition = sa.and_(condition, ~_differs(target, staging))
                staged.report.skipped += len(drifted)
            elif drifted:
                staged.report.overwritten += len(drifted)
            staged.report.skipped += len([m for m in staged.drift("delete") if m.kind == "missing"])
            result = self._execute(
                staged.report, target.delete().where(sa.exists().where(condition))
            )
            staged.report.deleted += max(result.rowcount, 0)

    def _drop_staging(self, staged: _Staged) -> None:
        for staging in (staged.inserts, staged.updates, staged.deletes):
            if staging is not None:
                self._execute(staged.report, DropTable(staging))

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
            if report is not None and _is_lock_timeout(error):
                raise TableLockedError(report.table, self.context) from error
            raise

    def _timed(self, report: TableReport) -> _Timer:
        return _Timer(report)

    def _quote(self, name: str) -> str:
        return self.connection.dialect.identifier_preparer.quote(name)

    def _quoted(self, table: sa.Table) -> str:
        return self.connection.dialect.identifier_preparer.format_table(table)


class _Timer:
    def __init__(self, report: TableReport) -> None:
        self.report = report
        self.started = 0.0

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self.report.seconds += time.perf_counter() - self.started


def _staging_type(column_type: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    """The column type for staging: enum types by name only (never created, no CHECK)."""
    if isinstance(column_type, sa.Enum):
        return sa.Enum(
            *column_type.enums,
            name=column_type.name,
            native_enum=column_type.native_enum,
            create_constraint=False,
        )
    return column_type


def _differs(target: sa.Table, staging: sa.Table) -> sa.ColumnElement[bool]:
    """True where the target row and the staged row differ in a column other than the key."""
    return sa.or_(
        sa.false(),
        *(
            target.c[c.name].is_distinct_from(staging.c[c.name])
            for c in target.columns
            if not c.primary_key
        ),
    )


def _unique_columns(table: sa.Table) -> set[str]:
    """Columns under a unique constraint or unique index, the primary key aside."""
    columns: set[str] = set()
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            columns.update(column.name for column in constraint.columns)
    for index in table.indexes:
        if index.unique:
            columns.update(column.name for column in index.columns)
    return columns


def _is_lock_timeout(error: sa.exc.OperationalError) -> bool:
    # SQLSTATE 55P03 (lock_not_available): PostgreSQL's lock_timeout expired.
    return getattr(error.orig, "sqlstate", None) == "55P03"
