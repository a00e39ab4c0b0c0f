"""One implementation of the apply step per dialect, the way Alembic keeps an impl per
``__dialect__``.

The plan (what to stage, the checks, the order, the counts) is the same everywhere; a
dialect says how rows reach a table in bulk, what it adds around the plan's statements
(deferring constraints, moving sequences, refreshing statistics), how a lock timeout shows,
and how offline SQL is compiled. A new backend is a module ``alembic_seeds.apply.<name>``
(the SQLAlchemy dialect name) with a subclass of ``ApplyImpl`` that sets ``__dialect__``:
it registers itself when imported, and ``impl_for`` imports it by that name.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.schema import DropTable
from sqlalchemy.sql.compiler import SQLCompiler

from alembic_seeds.apply.plan import Plan
from alembic_seeds.apply.schema import UniqueKey
from alembic_seeds.apply.staging import staging_type
from alembic_seeds.errors import ApplyError

_IMPLS: dict[str, type[ApplyImpl]] = {}


class ApplyImpl:
    """What every dialect does unless its own implementation says otherwise."""

    __dialect__: ClassVar[str] = "default"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__dialect__" in cls.__dict__:
            _IMPLS[cls.__dict__["__dialect__"]] = cls

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._offline: Dialect | None = None

    # -- the plan ----------------------------------------------------------------------

    def defers(self, key: UniqueKey) -> bool:
        """Whether collisions on ``key`` are left to a deferred check instead of parking."""
        return False

    def before_writes(self, plan: Plan) -> list[sa.Executable]:
        """Statements before the first write; resolves ``plan.blocked`` or raises."""
        if plan.blocked:
            raise unresolved(plan)
        return []

    def sequence_reset(self, table: sa.Table, column: sa.Column[Any]) -> sa.Executable | None:
        """A statement moving the sequence of ``column`` past its largest value, if the
        backend needs one (it does not where explicit keys move the counter themselves)."""
        return None

    # -- online ------------------------------------------------------------------------

    def check_tables(self, connection: Connection, plan: Plan) -> None:
        """Raise an ``ApplyError`` where the tables as the database has them cannot take the
        plan's rows exactly (before anything is staged or written)."""

    def staging_type(self, column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
        """The type of the staging column that holds values of ``column``."""
        return staging_type(column)

    def drop_staging(self, table: sa.Table) -> sa.Executable:
        """The statement that drops a staging table inside the revision's transaction."""
        return DropTable(table)

    def fill(self, connection: Connection, table: sa.Table, rows: Iterator[tuple[Any, ...]]) -> int:
        """Write ``rows`` (values in the order of ``table.columns``) in one bulk statement."""
        names = [column.key for column in table.columns]
        batch = [dict(zip(names, row, strict=True)) for row in rows]
        if batch:
            connection.execute(table.insert(), batch)
        return len(batch)

    def after_fill(self, table: sa.Table, count: int) -> list[sa.Executable]:
        """Statements after a staging table is filled with ``count`` rows."""
        return []

    def is_lock_timeout(self, error: BaseException) -> bool:
        return False

    def stored_name(self, name: str) -> str:
        """``name`` as the database keeps it (and reflection reads it back)."""
        return name

    # -- offline -----------------------------------------------------------------------

    def offline_dialect(self) -> Dialect:
        """The dialect to compile offline SQL with: values as they are, never with ``%``
        doubled for a driver's parameter style (the SQL goes to a client, not a driver),
        and texts a client would read otherwise written as ``text_literal`` says."""
        if self._offline is None:
            dialect = copy.copy(self.dialect)
            dialect.paramstyle = "named"
            dialect.positional = False
            dialect.identifier_preparer = dialect.preparer(dialect)
            dialect.statement_compiler = _offline_compiler(
                type(self.dialect).statement_compiler, self
            )
            self._offline = dialect
        return self._offline

    def text_literal(self, value: str) -> str | None:
        """SQL for a text that the plain quoted form would not carry through the client
        unchanged (None: the plain form does)."""
        return None


def driver_executemany(
    connection: Connection, table: sa.Table, rows: Iterator[tuple[Any, ...]], marker: str
) -> int:
    """Write ``rows`` into ``table`` with the driver's executemany of one INSERT, values
    bound positionally as ``marker`` (no bind names made of column names)."""
    dialect = connection.dialect
    processors = [column.type.bind_processor(dialect) for column in table.columns]
    preparer = dialect.identifier_preparer
    names = ", ".join(preparer.quote(column.name) for column in table.columns)
    marks = ", ".join(marker for _ in table.columns)
    batch = [
        tuple(
            value if process is None else process(value)
            for process, value in zip(processors, row, strict=True)
        )
        for row in rows
    ]
    target = f"{preparer.format_table(table)} ({names})"
    if marker == "%s":
        # A format parameter style reads every % of the statement, the names' included.
        target = target.replace("%", "%%")
    statement = f"INSERT INTO {target} VALUES ({marks})"
    if batch:
        connection.exec_driver_sql(statement, batch)
    return len(batch)


def _offline_compiler(base: type[SQLCompiler], impl: ApplyImpl) -> type[SQLCompiler]:
    class OfflineCompiler(base):  # type: ignore[valid-type, misc]
        def render_literal_value(self, value: Any, type_: sa.types.TypeEngine[Any]) -> str:
            if isinstance(value, str):
                special = impl.text_literal(value)
                if special is not None:
                    return special
            rendered: str = super().render_literal_value(value, type_)
            return rendered

    return OfflineCompiler


def impl_for(dialect: Dialect) -> ApplyImpl:
    """The implementation for ``dialect``, importing ``alembic_seeds.apply.<name>``."""
    if dialect.name not in _IMPLS:
        try:
            importlib.import_module(f"alembic_seeds.apply.{dialect.name}")
        except ModuleNotFoundError as error:
            if error.name != f"alembic_seeds.apply.{dialect.name}":
                raise
    return _IMPLS.get(dialect.name, ApplyImpl)(dialect)


def unresolved(plan: Plan) -> ApplyError:
    lines = [
        f"{len(plan.blocked)} change(s) cannot be ordered so that every unique and foreign "
        "key constraint holds after each statement:"
    ]
    lines += [f"  {blocked}" for blocked in plan.blocked]
    lines.append(
        "  nothing was written; declare the unique constraint DEFERRABLE (PostgreSQL), or "
        "split the change into two revisions"
    )
    return ApplyError("\n".join(lines))
