"""The ways of loading the same dataset that the benchmark compares.

Every function gets a database that holds the schema and no rows (``upgrade_heads``: an empty
database) and returns the seconds it took. Connections are opened before the clock starts;
the clock stops when the commit has returned.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.orm import Mapper, Session

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.apply.order import parents_first
from alembic_seeds.apply.values import to_database
from alembic_seeds.changes.changeset import ChangeSet, Dataset, TableChanges
from bench.db import Server
from bench.generate import tool
from lumina.models import Base, metadata


@dataclass(frozen=True)
class Command:
    """One run of a command line: wall time, peak resident memory, exit code, output."""

    seconds: float
    max_rss_mb: float
    returncode: int
    output: str
    #: CPU time of the process and its children (user + system): what the machine's other
    #: work does not stretch, unlike the wall time.
    cpu_seconds: float = 0.0


#: Runs a command and reports its wall time and peak RSS. A child started straight from the
#: benchmark would report the benchmark's own RSS: Linux keeps the peak of the memory it
#: shared with its parent until ``exec`` (vfork), so a 2 GB benchmark process would make every
#: child look 2 GB large. Started from this small launcher (``python -S``, ~10 MB), the child
#: reports its own peak. The launcher writes "seconds max_rss_kib exit_code cpu_seconds" to a
#: file.
_LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    cpu = usage.ru_utime + usage.ru_stime
    out.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu}")
"""


def run_command(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Command:
    """Run ``args`` and wait for it: its wall time, peak RSS (its own) and output."""
    with tempfile.TemporaryFile("w+") as output, tempfile.TemporaryDirectory() as folder:
        measured = Path(folder) / "measured"
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, str(measured), *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        output.seek(0)
        text = output.read()
        if not measured.exists():
            raise RuntimeError(f"{' '.join(args)}: the launcher failed:\n{text[-3000:]}")
        seconds, max_rss_kib, returncode, cpu = measured.read_text().split()
    # Linux reports ru_maxrss in KiB.
    return Command(float(seconds), int(max_rss_kib) / 1024, int(returncode), text, float(cpu))


def alembic(project: Path, url: str, *args: str) -> Command:
    """``alembic ARGS`` in ``project`` against ``url`` (DATABASE_URL); fails loudly."""
    command = run_command([tool("alembic"), *args], project, {"DATABASE_URL": url})
    if command.returncode != 0:
        raise RuntimeError(f"alembic {' '.join(args)} failed:\n{command.output[-3000:]}")
    return command


def upgrade_heads(server: Server, database: str, project: Path) -> Command:
    """Contender 1: ``alembic upgrade heads`` from an empty database, the whole command."""
    return alembic(project, server.url_for(database), "upgrade", "heads")


def insert_everything(dataset: Dataset) -> ChangeSet:
    """The change set that inserts ``dataset`` into empty tables (rows are shared)."""
    return ChangeSet(
        {name: TableChanges(inserts=list(rows.values())) for name, rows in dataset.items() if rows}
    )


def engine_alone(server: Server, database: str, dataset: Dataset) -> float:
    """Contender 1': ``apply_changes`` of the whole dataset as inserts, then commit."""
    return time_engine(server.engine(database), dataset)


def time_engine(engine: sa.Engine, dataset: Dataset) -> float:
    """Seconds of ``apply_changes`` of ``dataset`` as inserts, and its commit, on a connection
    of ``engine`` (disposed of afterwards) that has already made a round trip."""
    changes = insert_everything(dataset)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            connection.commit()
            started = time.perf_counter()
            apply_changes(connection, metadata, changes)
            connection.commit()
            return time.perf_counter() - started
    finally:
        engine.dispose()


def _order(dataset: Dataset) -> list[str]:
    return parents_first(metadata, [name for name, rows in dataset.items() if rows])


@dataclass(frozen=True)
class _Statements:
    """Per-row statements of one table, as a hand-written seed script would have them."""

    columns: list[sa.Column[Any]]
    keys: list[str]
    others: list[str]
    select: sql.Composed
    insert: sql.Composed
    update: sql.Composed | None

    @classmethod
    def of(cls, table: sa.Table) -> _Statements:
        columns = list(table.columns)
        keys = [c.name for c in table.primary_key]
        others = [c.name for c in columns if not c.primary_key]
        name = sql.Identifier(table.name)
        where = sql.SQL(" AND ").join(
            sql.SQL("{} = %s").format(sql.Identifier(key)) for key in keys
        )
        select = sql.SQL("SELECT {} FROM {} WHERE {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in others or keys), name, where
        )
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            name,
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
            sql.SQL(", ").join(sql.Placeholder() for _ in columns),
        )
        update = (
            sql.SQL("UPDATE {} SET {} WHERE {}").format(
                name,
                sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in others),
                where,
            )
            if others
            else None
        )
        return cls(columns, keys, others, select, insert, update)


def per_row(server: Server, database: str, dataset: Dataset) -> float:
    """Contender 2: the original seed's way, plainly with psycopg, one transaction.

    For each row, parents first: SELECT it by primary key, then INSERT it when missing or
    UPDATE it when it differs, one statement at a time.
    """
    return _per_row(server, database, dataset, autocommit=False)


def per_row_autocommit(server: Server, database: str, dataset: Dataset) -> float:
    """Contender 2 as the Prisma seed ran it: every statement its own transaction."""
    return _per_row(server, database, dataset, autocommit=True)


def _per_row(server: Server, database: str, dataset: Dataset, *, autocommit: bool) -> float:
    with psycopg.connect(server.conninfo(database), autocommit=autocommit) as connection:
        connection.execute("SELECT 1")
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for name in _order(dataset):
                table = metadata.tables[name]
                statements = _Statements.of(table)
                for row in dataset[name].values():
                    values = {c.name: to_database(c, row.get(c.name)) for c in statements.columns}
                    key = [values[k] for k in statements.keys]
                    cursor.execute(statements.select, key)
                    found = cursor.fetchone()
                    if found is None:
                        cursor.execute(statements.insert, [values[c.name] for c in table.columns])
                    elif statements.update is not None and list(found) != [
                        values[c] for c in statements.others
                    ]:
                        cursor.execute(
                            statements.update, [values[c] for c in statements.others] + key
                        )
        connection.commit()
        return time.perf_counter() - started


def _orm_classes() -> dict[str, tuple[type[Any], dict[str, str]]]:
    """Table name -> (ORM class, column name -> attribute name)."""
    classes: dict[str, tuple[type[Any], dict[str, str]]] = {}
    for mapper in Base.registry.mappers:
        assert isinstance(mapper, Mapper)
        table = mapper.local_table
        assert isinstance(table, sa.Table)
        attributes = {
            column.name: prop.key for prop in mapper.column_attrs for column in prop.columns
        }
        classes[table.name] = (mapper.class_, attributes)
    return classes


def orm_merge(server: Server, database: str, dataset: Dataset) -> float:
    """Contender 3: SQLAlchemy ORM ``session.merge()`` per row, one commit.

    ``merge`` looks the row up by primary key and inserts or updates it (autoflush sends
    each row before the next lookup). The four join tables have no ORM class, and merge
    needs one: their rows are inserted with one ``session.execute(insert)`` per row.
    """
    classes = _orm_classes()
    engine = server.engine(database)
    try:
        with Session(engine) as session:
            session.execute(sa.text("SELECT 1"))
            session.commit()
            started = time.perf_counter()
            for name in _order(dataset):
                table = metadata.tables[name]
                mapped = classes.get(name)
                for row in dataset[name].values():
                    values = {c.name: to_database(c, row.get(c.name)) for c in table.columns}
                    if mapped is None:
                        session.execute(table.insert(), values)
                        continue
                    cls, attributes = mapped
                    session.merge(cls(**{attributes[c]: v for c, v in values.items()}))
            session.commit()
            return time.perf_counter() - started
    finally:
        engine.dispose()


def copy_rows(connection: psycopg.Connection, dataset: Dataset) -> None:
    """COPY every table's rows, parents first, in the connection's transaction."""
    with connection.cursor() as cursor:
        for name in _order(dataset):
            table = metadata.tables[name]
            rows = dataset[name].values()
            # The columns the rows have: one the data predates (Degree.facultyId, added by a
            # later schema revision) takes its default, as the engine's insert leaves it.
            present = {column for row in rows for column in row}
            columns = [c.name for c in table.columns if c.name in present]
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(name), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            )
            with cursor.copy(statement) as copy:
                # Text format: the server parses every value by its column's type, so the
                # JSON values (ISO timestamps, numbers, enum labels) go as they are.
                for row in rows:
                    copy.write_row([row.get(c) for c in columns])


def copy_floor(server: Server, database: str, dataset: Dataset) -> float:
    """Contender 4, the floor: COPY of the rows straight into the tables, no diffing."""
    with psycopg.connect(server.conninfo(database)) as connection:
        connection.execute("SELECT 1")
        connection.commit()
        started = time.perf_counter()
        copy_rows(connection, dataset)
        connection.commit()
        return time.perf_counter() - started


def count_rows(server: Server, database: str) -> int:
    """Rows in all seeded tables of ``database``: checks that a contender loaded everything."""
    tables = [metadata.tables[name] for name in sorted(metadata.tables)]
    query = sql.SQL(" + ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(t.name)) for t in tables
    )
    with psycopg.connect(server.conninfo(database)) as connection:
        row = connection.execute(sql.SQL("SELECT ") + query).fetchone()
    assert row is not None
    return int(row[0])


#: The contenders that load a dataset into a database holding the schema, by name.
IN_PROCESS: dict[str, Callable[[Server, str, Dataset], float]] = {
    "engine": engine_alone,
    "per_row": per_row,
    "per_row_autocommit": per_row_autocommit,
    "orm": orm_merge,
    "copy": copy_floor,
}
