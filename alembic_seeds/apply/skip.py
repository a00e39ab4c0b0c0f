"""What ``-x seeds_drift=skip`` leaves undone besides the drifted rows themselves.

A row that skip leaves as it is may refer to a row the change set deletes (a hand-edited
metadata row of a prerequisite edge that the revision deletes along with it). Deleting
that row anyway would break the foreign key (or, with ON DELETE CASCADE, take the kept row
with it), so its delete is left undone too, and so on up the references; each is reported
as a mismatch of kind "dependent". A kept row whose unique values another row of the
change set takes cannot be skipped at all: that is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alembic_seeds.apply.drift import Mismatch
from alembic_seeds.apply.plan import Plan, TablePlan
from alembic_seeds.changes.changeset import Key, Row, row_key
from alembic_seeds.errors import ApplyError

#: The kinds of mismatch whose rows stay in the database as they are.
KEPT = ("changed", "conflict")


def dependents(plan: Plan, mismatches: Iterable[Mismatch]) -> list[Mismatch]:
    """The deletes left undone because a kept row refers to the row they delete."""
    kept = [m for m in mismatches if m.kind in KEPT]
    tables = {table.name: table for table in plan.tables}
    images = _Images()
    queue: list[tuple[TablePlan, Key, Row]] = []
    for mismatch in kept:
        table = tables[mismatch.table]
        key = row_key(mismatch.key, table.keys)
        queue.append((table, key, images.kept_values(table, mismatch, key)))
    found: list[Mismatch] = []
    left: set[tuple[str, Key]] = {(m.table, row_key(m.key, tables[m.table].keys)) for m in kept}
    indexes: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], Row]] = {}
    while queue:
        child, child_key, values = queue.pop()
        for constraint in child.table.foreign_key_constraints:
            parent = tables.get(constraint.referred_table.name)
            if parent is None or not parent.changes.deletes:
                continue
            columns = [column.name for column in constraint.columns]
            if not all(c in values for c in columns):
                continue
            referred = tuple(element.column.name for element in constraint.elements)
            index = indexes.get((parent.name, referred))
            if index is None:
                index = {tuple(row.get(c) for c in referred): row for row in parent.changes.deletes}
                indexes[(parent.name, referred)] = index
            row = index.get(tuple(values[c] for c in columns))
            if row is None:
                continue
            parent_key = row_key(row, parent.keys)
            if (parent.name, parent_key) in left:
                continue
            left.add((parent.name, parent_key))
            shown = ", ".join(f"{k}={v!r}" for k, v in zip(child.keys, child_key, strict=True))
            found.append(
                Mismatch(
                    parent.name,
                    {k: row[k] for k in parent.keys},
                    "dependent",
                    operation="delete",
                    because=f"{child.name} {shown} refers to it and is left as it is",
                )
            )
            queue.append((parent, parent_key, row))
    return found


def refuse_colliding(plan: Plan, left: Iterable[Mismatch], context: str) -> None:
    """Refuse to skip rows whose unique values another row of the change set takes."""
    tables = {table.name: table for table in plan.tables}
    colliding = []
    for mismatch in left:
        if mismatch.kind not in (*KEPT, "dependent") or mismatch.operation == "insert":
            continue
        table = tables[mismatch.table]
        key = row_key(mismatch.key, table.keys)
        steps_aside = (
            key in table.park_updates
            if mismatch.operation == "update"
            else key in table.park_deletes or key in table.early
        )
        if steps_aside or (mismatch.operation, key) in table.deferred_vacaters:
            colliding.append(mismatch)
    if colliding:
        head = f"{context}: " if context else ""
        lines = [
            f"{head}-x seeds_drift=skip would leave {len(colliding)} row(s) whose unique "
            "values other rows of the revision take:"
        ]
        lines += [f"  {m.describe_key()} ({m.operation})" for m in colliding]
        lines.append("  nothing was written; -x seeds_drift=overwrite writes them")
        raise ApplyError("\n".join(lines))


class _Images:
    """The change set's rows by key, indexed once per table and operation when needed."""

    def __init__(self) -> None:
        self._indexes: dict[tuple[str, str], dict[Key, Row]] = {}

    def kept_values(self, table: TablePlan, mismatch: Mismatch, key: Key) -> Row:
        """The kept row's values as far as known: its change's image, with the drifted
        columns as the database holds them."""
        values = dict(self._index(table, mismatch.operation).get(key, {}))
        for column, database_value, _expected in mismatch.columns:
            values[column] = database_value
        return values

    def _index(self, table: TablePlan, operation: str) -> dict[Key, Row]:
        index = self._indexes.get((table.name, operation))
        if index is None:
            if operation == "update":
                index = {
                    row_key(u.key, table.keys): {**u.key, **u.before} for u in table.changes.updates
                }
            else:
                rows = table.changes.deletes if operation == "delete" else table.changes.inserts
                index = {row_key(row, table.keys): row for row in rows}
            self._indexes[(table.name, operation)] = index
        return index
