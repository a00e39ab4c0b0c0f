"""The set-based writes, one statement per staging table and step of the plan."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from alembic_seeds.apply.parking import parked_value
from alembic_seeds.apply.plan import TablePlan
from alembic_seeds.apply.staging import Staging
from alembic_seeds.apply.values import to_database


def park(plan: TablePlan, staging: Staging) -> sa.Update:
    """Give the parked columns of the staged rows that step aside their parked values."""
    target = staging.target
    assert staging.ordinal is not None
    values = {
        column: sa.case(
            (
                flag,
                parked_value(
                    target,
                    column,
                    plan.parking[column],
                    staging.ordinal,
                    plan.number_floor.get(column),
                ),
            ),
            else_=target.c[column],
        )
        for column, flag in staging.park.items()
    }
    return target.update().where(staging.matches(), sa.or_(*staging.park.values())).values(values)


def rekey(plan: TablePlan) -> sa.Update:
    """The rows ``plan.rekeys`` names get their new key, in one statement (a one-column key:
    MySQL assigns left to right, so a second key column would see the first one's new value)."""
    [name] = plan.keys
    column = plan.table.c[name]
    olds = [to_database(column, old[0]) for old in plan.rekeys]
    cases = [
        (column == to_database(column, old[0]), to_database(column, new[0]))
        for old, new in plan.rekeys.items()
    ]
    return plan.table.update().where(column.in_(olds)).values({name: sa.case(*cases)})


def insert(staging: Staging) -> sa.Insert:
    """The staged rows the table does not hold yet (parents before children)."""
    target = staging.target
    exists = sa.exists().where(staging.matches())
    # The columns the revision names; every other column gets its default.
    rows = sa.select(*staging.value.values()).where(~exists)
    if staging.depth is not None:
        rows = rows.order_by(staging.depth)
    return target.insert().from_select(list(staging.value), rows)


def overwrite(staging: Staging) -> sa.Update:
    """Insert conflicts overwritten: only the rows that differ (adopted rows are identical)."""
    target = staging.target
    values = {
        name: column for name, column in staging.value.items() if not target.c[name].primary_key
    }
    return target.update().where(staging.matches(), staging.differs()).values(values)


def update(staging: Staging) -> sa.Update:
    """Every changed column of the staged rows (a parked column gets its final value)."""
    target = staging.target
    values: dict[str, Any] = {
        column: sa.case((staging.changed[column], staging.value[column]), else_=target.c[column])
        for column in staging.changed
    }
    return (
        target.update().where(staging.matches(), sa.or_(*staging.changed.values())).values(values)
    )


def delete(staging: Staging, early: bool | None = None, depth: int | None = None) -> sa.Delete:
    """The staged rows; ``early`` limits it to the rows that go first (True) or the others,
    ``depth`` to the rows with that many ancestors among them.

    A table that refers to itself is deleted one depth at a time, deepest first: SQLite
    (for ON DELETE RESTRICT) and MySQL check each deleted row at once, in an order a single
    statement does not promise.
    """
    condition = staging.matches()
    if early is not None and staging.early is not None:
        condition = sa.and_(condition, staging.early if early else ~staging.early)
    if depth is not None and staging.depth is not None:
        condition = sa.and_(condition, staging.depth == depth)
    return staging.target.delete().where(sa.exists().where(condition))
