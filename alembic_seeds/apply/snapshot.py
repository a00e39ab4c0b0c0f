"""Reading seeded tables back from a database in the form of a ``Dataset``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.apply.shapes import live_shapes
from alembic_seeds.apply.values import from_database
from alembic_seeds.changes.changeset import Dataset, Key, Row
from alembic_seeds.errors import ApplyError
from alembic_seeds.memory import collector_paused


def read_dataset(connection: Connection, metadata: sa.MetaData, tables: Iterable[str]) -> Dataset:
    """Every row of ``tables``, keyed by primary key, values as JSON-compatible Python.

    The columns are those each table has in the database (at an earlier point of the
    history they may differ from the models'), typed as the models type them where they
    have the column.
    """
    return dict(read_tables(connection, metadata, tables))


def read_tables(
    connection: Connection, metadata: sa.MetaData, tables: Iterable[str]
) -> Iterator[tuple[str, dict[Key, Row]]]:
    """``read_dataset`` one table at a time: a caller that compares and lets go of each
    table holds one table's rows at once, not the whole database's."""
    names = list(tables)
    shapes = live_shapes(connection, metadata, names)
    for name in names:
        shape = shapes[name]
        if shape is None:
            raise ApplyError(f"the database has no table {name}")
        model = metadata.tables.get(name)
        columns: list[sa.ColumnClause[Any]] = [
            sa.column(
                c.name, model.c[c.name].type if model is not None and c.name in model.c else c.type
            )
            for c in shape.columns
        ]
        schema, _, table_name = name.rpartition(".")
        table = sa.table(table_name, *columns, schema=schema or None)
        keys = list(shape.primary_key)
        result = connection.execute(sa.select(table).order_by(*(table.c[k] for k in keys)))
        rows: dict[Key, Row] = {}
        with collector_paused():
            for row in result:
                values = {
                    column.name: from_database(column, value)
                    for column, value in zip(columns, row, strict=True)
                }
                rows[tuple(values[k] for k in keys)] = values
        yield name, rows
