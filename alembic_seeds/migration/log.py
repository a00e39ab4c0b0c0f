"""The log of applied data revisions, kept in the database beside Alembic's version table.

Each upgrade and downgrade of a data revision adds one row, in the same transaction as the
revision itself: so the log never claims a change that did not happen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

LOG_TABLE = "alembic_seeds_log"

#: The log table lives in its own metadata so that the engine never imports a domain.
log_metadata = sa.MetaData()


def _columns() -> list[sa.Column[Any]]:
    """Fresh column objects: one set for the metadata, one for each CREATE TABLE."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("checksum", sa.String(80), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
    ]


log_table = sa.Table(
    LOG_TABLE, log_metadata, *_columns(), sa.Index(f"ix_{LOG_TABLE}_revision", "revision")
)


@dataclass(frozen=True)
class LogEntry:
    revision: str
    direction: str
    checksum: str
    applied_at: datetime
    counts: dict[str, dict[str, int]]
    duration_ms: float


class database_clock(FunctionElement[datetime]):
    """The database's clock when the statement runs (not when the SQL was written)."""

    type = sa.DateTime(timezone=True)
    inherit_cache = True


@compiles(database_clock)
def _current_timestamp(element: database_clock, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(database_clock, "postgresql")
def _clock_timestamp(element: database_clock, compiler: SQLCompiler, **kw: Any) -> str:
    # now() would be the transaction's start; clock_timestamp() is this very moment.
    return "clock_timestamp()"


class revision_elapsed_ms(FunctionElement[float]):
    """Milliseconds since the revision's transaction began, where the database can tell."""

    type = sa.Float()
    inherit_cache = True


@compiles(revision_elapsed_ms)
def _no_elapsed(element: revision_elapsed_ms, compiler: SQLCompiler, **kw: Any) -> str:
    return "0"


@compiles(revision_elapsed_ms, "postgresql")
def _elapsed(element: revision_elapsed_ms, compiler: SQLCompiler, **kw: Any) -> str:
    # Offline SQL runs each revision in a transaction of its own (BEGIN ... COMMIT).
    return "EXTRACT(EPOCH FROM clock_timestamp() - transaction_timestamp()) * 1000"


def record(
    connection: Connection,
    *,
    revision: str,
    direction: str,
    checksum: str,
    counts: dict[str, dict[str, int]],
    duration_ms: float,
) -> None:
    connection.execute(
        log_insert(
            revision=revision,
            direction=direction,
            checksum=checksum,
            counts=counts,
            applied_at=datetime.now(UTC),
            duration_ms=duration_ms,
        )
    )


def log_insert(
    *,
    revision: str,
    direction: str,
    checksum: str,
    counts: dict[str, dict[str, int]],
    applied_at: datetime | None = None,
    duration_ms: float | None = None,
) -> sa.Insert:
    """The log row; without ``applied_at`` and ``duration_ms`` (offline SQL), the
    database's clock fills them in when the statement runs. Inline: the new id is not
    fetched (offline SQL would print it)."""
    return (
        log_table.insert()
        .inline()
        .values(
            revision=revision,
            direction=direction,
            checksum=checksum,
            applied_at=database_clock() if applied_at is None else applied_at,
            counts=json.dumps(counts, sort_keys=True),
            duration_ms=revision_elapsed_ms() if duration_ms is None else duration_ms,
        )
    )


def entries(connection: Connection) -> list[LogEntry]:
    """Every entry, oldest first; an empty list when the table does not exist yet."""
    if not sa.inspect(connection).has_table(LOG_TABLE):
        return []
    rows = connection.execute(sa.select(log_table).order_by(log_table.c.id)).all()
    return [_entry(row) for row in rows]


def _entry(row: Any) -> LogEntry:
    return LogEntry(
        revision=row.revision,
        direction=row.direction,
        checksum=row.checksum,
        applied_at=row.applied_at,
        counts=json.loads(row.counts),
        duration_ms=row.duration_ms,
    )


def create_log_table(bind_op: Any) -> None:
    """Create the log table from a schema revision (``create_log_table(op)``)."""
    bind_op.create_table(LOG_TABLE, *_columns())
    bind_op.create_index(f"ix_{LOG_TABLE}_revision", LOG_TABLE, ["revision"])


def drop_log_table(bind_op: Any) -> None:
    bind_op.drop_index(f"ix_{LOG_TABLE}_revision", table_name=LOG_TABLE)
    bind_op.drop_table(LOG_TABLE)
