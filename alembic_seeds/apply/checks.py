"""The drift checks: one SELECT per staging table, joining it to its target.

Inserts that meet an identical row are adopted (counted unchanged); inserts that meet a
different row, updates and deletes of rows that are not as their before-image says (or
are not there at all) are mismatches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from alembic_seeds.apply.drift import Mismatch
from alembic_seeds.apply.staging import Staging
from alembic_seeds.apply.values import from_database
from alembic_seeds.changes.changeset import same_value


def insert_check(staging: Staging) -> sa.Select[Any]:
    target = staging.target
    return sa.select(
        *_both_images(staging),
        staging.differs().label("differs"),
    ).select_from(staging.table.join(target, staging.matches()))


def _both_images(staging: Staging) -> list[sa.ColumnElement[Any]]:
    """The staged values (``new_<i>``) and the database's (``db_<i>``) of the columns the
    rows name, in the order of ``staging.value``."""
    names = list(staging.value)
    return [
        *(staging.value[name].label(f"new_{i}") for i, name in enumerate(names)),
        *(staging.target.c[name].label(f"db_{i}") for i, name in enumerate(names)),
    ]


def insert_mismatches(staging: Staging, found: Sequence[Any]) -> tuple[list[Mismatch], int]:
    """Mismatches among the rows ``insert_check`` found, and how many were identical."""
    mismatches, unchanged = [], 0
    for row in found:
        if row.differs:
            mismatches.append(_full_row_mismatch(staging, row, "conflict", "insert"))
        else:
            unchanged += 1
    return mismatches, unchanged


def update_check(staging: Staging) -> sa.Select[Any]:
    target = staging.target
    keys = staging.keys
    columns = list(staging.before)
    drifted = sa.or_(
        target.c[keys[0]].is_(None),
        *(
            sa.and_(
                staging.changed[column],
                target.c[column].is_distinct_from(staging.before[column]),
            )
            for column in columns
        ),
    )
    return (
        sa.select(
            *(staging.value[k].label(f"key_{i}") for i, k in enumerate(keys)),
            target.c[keys[0]].label("present"),
            *(staging.changed[c].label(f"set_{i}") for i, c in enumerate(columns)),
            *(staging.before[c].label(f"before_{i}") for i, c in enumerate(columns)),
            *(target.c[c].label(f"db_{i}") for i, c in enumerate(columns)),
        )
        .select_from(staging.table.outerjoin(target, staging.matches()))
        .where(drifted)
    )


def update_mismatches(staging: Staging, found: Sequence[Any]) -> list[Mismatch]:
    target = staging.target
    keys = staging.keys
    mismatches = []
    for row in found:
        key = {k: from_database(target.c[k], getattr(row, f"key_{i}")) for i, k in enumerate(keys)}
        if row.present is None:
            mismatches.append(Mismatch(target.name, key, "missing", operation="update"))
            continue
        differing = []
        for i, column in enumerate(staging.before):
            if not getattr(row, f"set_{i}"):
                continue
            db = from_database(target.c[column], getattr(row, f"db_{i}"))
            want = from_database(target.c[column], getattr(row, f"before_{i}"))
            if not same_value(db, want):
                differing.append((column, db, want))
        mismatches.append(Mismatch(target.name, key, "changed", tuple(differing), "update"))
    return mismatches


def delete_check(staging: Staging) -> sa.Select[Any]:
    target = staging.target
    present = target.c[staging.keys[0]]
    return (
        sa.select(*_both_images(staging), present.label("present"))
        .select_from(staging.table.outerjoin(target, staging.matches()))
        .where(sa.or_(present.is_(None), staging.differs()))
    )


def delete_mismatches(staging: Staging, found: Sequence[Any]) -> list[Mismatch]:
    target = staging.target
    mismatches = []
    for row in found:
        if row.present is None:
            mismatches.append(
                Mismatch(target.name, _staged_key(staging, row), "missing", operation="delete")
            )
        else:
            mismatches.append(_full_row_mismatch(staging, row, "changed", "delete"))
    return mismatches


def _staged_key(staging: Staging, row: Any) -> dict[str, Any]:
    names = list(staging.value)
    target = staging.target
    return {
        k: from_database(target.c[k], getattr(row, f"new_{names.index(k)}")) for k in staging.keys
    }


def _full_row_mismatch(staging: Staging, row: Any, kind: str, operation: str) -> Mismatch:
    """How a row found by ``insert_check`` or ``delete_check`` differs, column by column
    (the columns the revision names)."""
    target = staging.target
    differing = []
    for i, name in enumerate(staging.value):
        column = target.c[name]
        if column.primary_key:
            continue
        db = from_database(column, getattr(row, f"db_{i}"))
        want = from_database(column, getattr(row, f"new_{i}"))
        if not same_value(db, want):
            differing.append((column.name, db, want))
    return Mismatch(target.name, _staged_key(staging, row), kind, tuple(differing), operation)
