"""Plain SQL for ``alembic upgrade --sql``: the plan's steps, one statement per row.

No database is there to check drift against, so the SQL writes the change set as it is, in
the order the plan gives (rows that step aside, deletes that go first, inserts and updates
parents first, the other deletes children first, sequences). Statements are compiled with
their values inline, exactly: no ``%`` doubled for a driver, no tab expanded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from alembic_seeds.apply.dialect import ApplyImpl
from alembic_seeds.apply.parking import parked_value
from alembic_seeds.apply.plan import Park, TablePlan, build_plan
from alembic_seeds.apply.values import to_database
from alembic_seeds.apply.writes import rekey
from alembic_seeds.changes.changeset import ChangeSet, Key, Row, row_key


def offline_statements(
    metadata: sa.MetaData, changes: ChangeSet, impl: ApplyImpl
) -> Iterator[sa.Executable]:
    plan = build_plan(metadata, changes, impl.defers)
    yield from impl.before_writes(plan)
    for table in plan.parents_first():
        yield from _parks(table)
    for table in plan.parents_first():
        if table.rekeys:
            yield rekey(table)
    for table in plan.children_first():
        yield from _deletes(table, early=True)
    for table in plan.parents_first():
        rekeyed = set(table.rekeys.values())
        for row in _by_depth(table.changes.inserts, table, table.insert_depth):
            if row_key(row, table.keys) not in rekeyed:
                yield table.table.insert().values(_database_row(table.table, row))
        for update in table.changes.updates:
            yield (
                table.table.update()
                .where(_is(table, update.key))
                .values(_database_row(table.table, update.after))
            )
    for table in plan.children_first():
        yield from _deletes(table, early=False)
    for table in plan.parents_first():
        if table.sequence is not None:
            reset = impl.sequence_reset(table.table, table.sequence)
            if reset is not None:
                yield reset


def compile_offline(statement: sa.Executable, impl: ApplyImpl) -> str:
    """``statement`` as SQL text with every value inline, for a client such as psql."""
    assert isinstance(statement, sa.ClauseElement)
    compiled = statement.compile(
        dialect=impl.offline_dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled).strip()


def _parks(table: TablePlan) -> Iterator[sa.Executable]:
    parks: list[tuple[Row, Park]] = []
    for update in table.changes.updates:
        park = table.park_updates.get(row_key(update.key, table.keys))
        if park is not None:
            parks.append((update.key, park))
    for row in table.changes.deletes:
        park = table.park_deletes.get(row_key(row, table.keys))
        if park is not None:
            parks.append((row, park))
    for key, park in parks:
        values = {
            column: parked_value(
                table.table,
                column,
                table.parking[column],
                sa.literal(park.ordinal),
                table.number_floor.get(column),
            )
            for column in park.columns
        }
        yield table.table.update().where(_is(table, key)).values(values)


def _deletes(table: TablePlan, early: bool) -> Iterator[sa.Executable]:
    if early and not table.early:
        return
    rows = _by_depth(table.changes.deletes, table, table.delete_depth, reverse=True)
    for row in rows:
        key = row_key(row, table.keys)
        if (key in table.early) == early and key not in table.rekeys:
            yield table.table.delete().where(_is(table, row))


def _by_depth(
    rows: Sequence[Row], table: TablePlan, depth: Mapping[Key, int], reverse: bool = False
) -> Iterable[Row]:
    """Parents before their children (``reverse``: children first); else as they come."""
    if not depth:
        return rows
    sign = -1 if reverse else 1
    ordered = sorted(
        enumerate(rows),
        key=lambda item: (sign * depth.get(row_key(item[1], table.keys), 0), item[0]),
    )
    return [row for _position, row in ordered]


def _is(table: TablePlan, row: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    target = table.table
    return sa.and_(*(target.c[k] == to_database(target.c[k], row[k]) for k in table.keys))


def _database_row(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {column: to_database(table.c[column], value) for column, value in row.items()}
