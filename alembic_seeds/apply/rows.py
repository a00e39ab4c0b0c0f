"""The rows of a change set in database form, as the staging tables (or, for rows that go
straight in, the target itself) take them: dicts by the name of the column that holds each
value, with the plan's marks (which columns a row parks, whether it goes first, its depth)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from alembic_seeds.apply.plan import Park, TablePlan
from alembic_seeds.apply.staging import Staging
from alembic_seeds.apply.values import to_database
from alembic_seeds.changes.changeset import Row, row_key

Values = dict[str, Any]


def target_rows(table: TablePlan) -> Iterator[Values]:
    """The inserts by the target's own column names (the columns they write)."""
    columns = [table.table.c[name] for name in table.insert_columns]
    for row in table.changes.inserts:
        yield {c.name: to_database(c, row.get(c.name)) for c in columns}


def written_part(target: sa.Table, columns: list[str]) -> sa.Table:
    """``target`` as far as ``columns`` go: what a bulk load into it names (the other
    columns get their defaults)."""
    if len(columns) == len(target.columns):
        return target
    return sa.Table(
        target.name,
        sa.MetaData(),
        *(sa.Column(name, target.c[name].type) for name in columns),
        schema=target.schema,
    )


def insert_rows(table: TablePlan, staging: Staging) -> Iterator[Values]:
    for row in table.changes.inserts:
        values = _staged_row(table.table, row, staging)
        if staging.depth is not None:
            values[staging.depth.name] = table.insert_depth.get(row_key(row, table.keys), 0)
        yield values


def update_rows(table: TablePlan, staging: Staging) -> Iterator[Values]:
    target = table.table
    for position, update in enumerate(table.changes.updates):
        values = {
            staging.value[k].name: to_database(target.c[k], update.key[k]) for k in table.keys
        }
        for column in staging.changed:
            values[staging.value[column].name] = to_database(
                target.c[column], update.after.get(column)
            )
            values[staging.before[column].name] = to_database(
                target.c[column], update.before.get(column)
            )
            values[staging.changed[column].name] = column in update.after
        if staging.ordinal is not None:
            _mark_parked(staging, table.park_updates.get(row_key(update.key, table.keys)), values)
            values[staging.ordinal.name] = table.update_ordinal(position)
        yield values


def delete_rows(table: TablePlan, staging: Staging) -> Iterator[Values]:
    for position, row in enumerate(table.changes.deletes):
        key = row_key(row, table.keys)
        values = _staged_row(table.table, row, staging)
        if staging.ordinal is not None:
            _mark_parked(staging, table.park_deletes.get(key), values)
            values[staging.ordinal.name] = table.delete_ordinal(position)
        if staging.early is not None:
            values[staging.early.name] = key in table.early
        if staging.depth is not None:
            values[staging.depth.name] = table.delete_depth.get(key, 0)
        yield values


def _staged_row(target: sa.Table, row: Row, staging: Staging) -> Values:
    return {
        column.name: to_database(target.c[name], row.get(name))
        for name, column in staging.value.items()
    }


def _mark_parked(staging: Staging, park: Park | None, values: Values) -> None:
    columns = park.columns if park is not None else ()
    for column, flag in staging.park.items():
        values[flag.name] = column in columns
