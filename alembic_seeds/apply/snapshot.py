"""Reading seeded tables back from a database in the form of a ``Dataset``."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.apply.values import from_database
from alembic_seeds.changes.changeset import Dataset


def read_dataset(connection: Connection, metadata: sa.MetaData, tables: Iterable[str]) -> Dataset:
    """Every row of ``tables``, keyed by primary key, values as JSON-compatible Python."""
    dataset: Dataset = {}
    for name in tables:
        table = metadata.tables[name]
        keys = [column.name for column in table.primary_key]
        rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
        dataset[name] = {}
        for row in rows:
            values = {
                column.name: from_database(column, row._mapping[column.name])
                for column in table.columns
            }
            dataset[name][tuple(values[k] for k in keys)] = values
    return dataset
