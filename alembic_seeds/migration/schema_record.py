"""What a schema revision does to tables, learnt without a database.

Replay (``seeds revision --autogenerate``, ``seeds check``, ``seeds show``) and offline SQL
need to know what each schema revision of the history does to the seeded tables: a column
added (and the value existing rows get), dropped, renamed or made NOT NULL, a table created,
renamed or dropped. They learn it by running the revision's ``upgrade()`` against a recording
Alembic context: every operation reaches a recording implementation instead of a database,
batch operations included (they are recorded one by one, never by copying a table).

SQL that a revision runs as text (``op.execute``) is recorded as it is: replay cannot tell
what it does, so it only keeps the statements that may change rows or columns of a table
(``ALTER TABLE``, ``UPDATE``, ...) to name them when their effect shows.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import op as op_module
from alembic.ddl.impl import DefaultImpl
from alembic.operations import BatchOperations, Operations
from alembic.operations.batch import BatchOperationsImpl
from alembic.runtime.migration import MigrationContext
from alembic.script import Script

from alembic_seeds.errors import ReplayError

#: The dialect schema revisions are recorded with, so that a revision which picks its
#: operations by dialect records the same whatever database a project happens to name.
RECORDING_DIALECT = "postgresql"


@dataclass(frozen=True)
class CreateTable:
    table: sa.Table


@dataclass(frozen=True)
class DropTable:
    table: str


@dataclass(frozen=True)
class RenameTable:
    table: str
    new_name: str


@dataclass(frozen=True)
class AddColumn:
    table: str
    column: sa.Column[Any]


@dataclass(frozen=True)
class DropColumn:
    table: str
    column: str


@dataclass(frozen=True)
class AlterColumn:
    table: str
    column: str
    #: What changes; None where the operation leaves it as it is.
    new_name: str | None = None
    nullable: bool | None = None
    type: sa.types.TypeEngine[Any] | None = None


@dataclass(frozen=True)
class OpaqueSql:
    """A statement given as text (or built by hand) that may change tables or rows."""

    sql: str

    def names(self, table: str) -> bool:
        """Whether the statement mentions ``table`` (quoted or not)."""
        return re.search(rf"(?<!\w){re.escape(table)}(?!\w)", self.sql) is not None


SchemaOp = CreateTable | DropTable | RenameTable | AddColumn | DropColumn | AlterColumn | OpaqueSql

#: Statements that may change the rows or columns of a table (what replay cannot follow).
_CHANGING = re.compile(
    r"^\s*(ALTER\s+TABLE|UPDATE|INSERT|DELETE|TRUNCATE|DROP\s+TABLE|MERGE|COPY)\b",
    re.IGNORECASE,
)


#: Recorded operations by (revision file, its modification time and size, dialect): replay
#: runs often (every ``seeds`` command), schema revisions rarely change.
_RECORDED: dict[tuple[str, int, int, str], list[SchemaOp]] = {}


def record_upgrade(script: Script, dialect_name: str = RECORDING_DIALECT) -> list[SchemaOp]:
    """The operations of ``script``'s ``upgrade()``, in the order it performs them."""
    stat = os.stat(script.path)
    key = (script.path, stat.st_mtime_ns, stat.st_size, dialect_name)
    found = _RECORDED.get(key)
    if found is None:
        found = _RECORDED[key] = _record(script, dialect_name)
    return found


def _record(script: Script, dialect_name: str) -> list[SchemaOp]:
    recorded: list[SchemaOp] = []
    context = MigrationContext.configure(
        dialect_name=dialect_name,
        opts={"as_sql": True, "output_buffer": io.StringIO(), "literal_binds": True},
    )
    context.impl = _Recorder(context.dialect, context.opts, recorded)
    upgrade = getattr(script.module, "upgrade", None)
    if not callable(upgrade):
        return recorded
    try:
        with _installed(_RecordingOperations(context)):
            upgrade()
    except ReplayError:
        raise
    except Exception as error:
        raise ReplayError(
            f"schema revision {script.revision}: its upgrade() cannot be followed without a "
            f"database ({type(error).__name__}: {error}); replay needs to know what it does "
            "to the seeded tables: write its operations with op.add_column, op.drop_column, "
            "op.alter_column, op.create_table, op.rename_table or op.drop_table (batch "
            "operations too) rather than through op.get_bind()"
        ) from None
    return recorded


@contextlib.contextmanager
def _installed(operations: Operations) -> Iterator[None]:
    """``operations`` behind ``alembic.op`` for a while; whatever was there comes back
    (an offline run that renders a data revision records history in the middle of it)."""
    module = vars(op_module)
    previous = module.get("_proxy")
    module["_proxy"] = operations
    try:
        yield
    finally:
        module["_proxy"] = previous


class _RecordingOperations(Operations):
    @contextlib.contextmanager
    def batch_alter_table(
        self, table_name: str, schema: str | None = None, *args: Any, **kw: Any
    ) -> Iterator[BatchOperations]:
        # Each operation of the batch as it is, never a copy of the table: what happens to
        # the rows is the same however a dialect carries the batch out.
        impl = _RecordingBatch(self, table_name, schema, "never", *_batch_defaults())  # type: ignore[no-untyped-call]
        yield BatchOperations(self.migration_context, impl=impl)
        impl.flush()


def _batch_defaults() -> tuple[Any, ...]:
    # copy_from, table_args, table_kwargs, reflect_args, reflect_kwargs, naming_convention,
    # partial_reordering: none of them matters when nothing is copied.
    return (None, (), {}, (), {}, None, None)


class _RecordingBatch(BatchOperationsImpl):
    def _should_recreate(self) -> bool:
        return False


class _Recorder(DefaultImpl):
    """Takes every operation down instead of running it."""

    def __init__(self, dialect: sa.Dialect, opts: dict[str, Any], recorded: list[SchemaOp]):
        super().__init__(dialect, None, True, False, io.StringIO(), opts)
        self.recorded = recorded

    def static_output(self, text: str) -> None:
        pass

    def _exec(self, construct: Any, *args: Any, **kw: Any) -> None:
        if isinstance(construct, str):
            sql = construct
        elif isinstance(construct, sa.schema.ExecutableDDLElement):
            return None  # indexes, constraints, comments: nothing of the rows
        elif isinstance(construct, sa.sql.ClauseElement):
            sql = str(construct.compile(dialect=self.dialect))
        else:
            sql = str(construct)
        if _CHANGING.match(sql):
            self.recorded.append(OpaqueSql(" ".join(sql.split())))
        return None

    def create_table(self, table: sa.Table, **kw: Any) -> None:
        self.recorded.append(CreateTable(table))

    def drop_table(self, table: sa.Table, **kw: Any) -> None:
        self.recorded.append(DropTable(table.name))

    def rename_table(self, old_table_name: str, new_table_name: Any, schema: Any = None) -> None:
        self.recorded.append(RenameTable(old_table_name, str(new_table_name)))

    def add_column(self, table_name: str, column: sa.Column[Any], **kw: Any) -> None:
        self.recorded.append(AddColumn(table_name, column))

    def drop_column(self, table_name: str, column: sa.Column[Any], **kw: Any) -> None:
        self.recorded.append(DropColumn(table_name, column.name))

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        *,
        nullable: bool | None = None,
        name: str | None = None,
        type_: sa.types.TypeEngine[Any] | None = None,
        **kw: Any,
    ) -> None:
        self.recorded.append(AlterColumn(table_name, column_name, name, nullable, type_))

    def bulk_insert(self, table: Any, rows: Any, multiinsert: bool = True) -> None:
        name = table.name if isinstance(table, sa.Table | sa.TableClause) else str(table)
        self.recorded.append(OpaqueSql(f"INSERT INTO {name} (bulk_insert of {len(rows)} rows)"))
