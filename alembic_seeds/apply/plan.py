"""The plan of a change set: the order of its statements, decided before any is built.

Online (set-based, with staging tables) and offline (``--sql``, a statement per row) follow
the same plan, so both pass the same constraints in the same order:

1. rows whose unique values another row of the change set takes step aside first (they
   are *parked*: one column of the constraint gets a value that collides with nothing);
2. deletes that cannot step aside go next, children first (and the rows referring to them
   with them), so that their unique values are free before anything takes them;
3. inserts and updates, parents first (within a table that refers to itself, parents
   before their children);
4. the other deletes, children first (children before parents within a table);
5. sequences move past the largest key the inserts wrote.

So a re-keyed row (same content, new id) and a swap of unique values between rows apply
with plain constraints, checked row by row (as MySQL's InnoDB checks them) or at the end
of each statement: no DEFERRABLE constraint and no disabled foreign key is needed. Where a
dialect can defer a constraint (PostgreSQL, a DEFERRABLE one) it may do that instead of
parking; what neither resolves is ``blocked`` and named before anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from alembic_seeds.apply.order import parents_first
from alembic_seeds.apply.schema import (
    Parking,
    SelfReference,
    UniqueKey,
    parking_of,
    referenced_columns,
    self_references,
    sequence_column,
    unique_keys,
)
from alembic_seeds.changes.changeset import (
    ChangeSet,
    Key,
    Row,
    RowUpdate,
    TableChanges,
    row_key,
    same_value,
)
from alembic_seeds.errors import ApplyError

#: Parking preference: NULL needs no value, a text marker no look-up, a number a MAX().
_PARKING_ORDER = (Parking.NULL, Parking.TEXT, Parking.NUMBER)


@dataclass(frozen=True)
class Park:
    """A row that steps aside: ``columns`` hold parked values until its final write.

    ``ordinal`` tells the parked values of one table apart (updates count from 0, deletes
    after them).
    """

    columns: tuple[str, ...]
    ordinal: int


@dataclass(frozen=True)
class Blocked:
    """A collision that no order of plain statements resolves."""

    table: str
    columns: tuple[str, ...]  # the primary key's
    key: Key
    operation: str  # "update" or "delete"
    reason: str

    def __str__(self) -> str:
        return f"{self.table} {_shown(self.columns, self.key)}: {self.operation}: {self.reason}"


def _shown(columns: Sequence[str], key: Key) -> str:
    return ", ".join(f"{c}={v!r}" for c, v in zip(columns, key, strict=True))


@dataclass
class TablePlan:
    table: sa.Table
    changes: TableChanges
    #: Updates and deletes that step aside first, by primary key.
    park_updates: dict[Key, Park] = field(default_factory=dict)
    park_deletes: dict[Key, Park] = field(default_factory=dict)
    #: How each parked column parks.
    parking: dict[str, Parking] = field(default_factory=dict)
    #: For a parked number column: the largest value the change set writes into it.
    number_floor: dict[str, Any] = field(default_factory=dict)
    #: Deletes that go before every insert.
    early: set[Key] = field(default_factory=set)
    #: Rows whose unique values another row takes, where the dialect defers the check.
    deferred_vacaters: set[tuple[str, Key]] = field(default_factory=set)
    #: Depth of each inserted / deleted row below its parents in the same table (only for
    #: a table that refers to itself; rows absent have depth 0).
    insert_depth: dict[Key, int] = field(default_factory=dict)
    delete_depth: dict[Key, int] = field(default_factory=dict)
    self_references: list[SelfReference] = field(default_factory=list)
    #: The key column a sequence fills, when the change set inserts into this table.
    sequence: sa.Column[Any] | None = None
    #: Deletes that an insert repeats under a new key, written as one UPDATE of the key
    #: instead (old key -> new key); see ``Plan.rekey_blocked_deletes``.
    rekeys: dict[Key, Key] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.table.primary_key)

    @property
    def insert_columns(self) -> list[str]:
        """The columns the inserts write: those their rows name (and the key), in the
        table's order. Every other column gets its default."""
        return self._named(self.changes.columns("inserts"))

    @property
    def delete_columns(self) -> list[str]:
        """The columns the deletes' before-images are matched on: those their rows name."""
        return self._named(self.changes.columns("deletes"))

    def _named(self, columns: Iterable[str]) -> list[str]:
        named = {*self.keys, *columns}
        return [column.name for column in self.table.columns if column.name in named]

    @property
    def parks(self) -> bool:
        return bool(self.park_updates or self.park_deletes)

    def update_ordinal(self, position: int) -> int:
        return position

    def delete_ordinal(self, position: int) -> int:
        return len(self.changes.updates) + position


@dataclass
class Plan:
    #: Tables with changes, parents first.
    tables: list[TablePlan]
    #: Collisions on unique constraints that the dialect defers (PostgreSQL, DEFERRABLE).
    deferred: list[UniqueKey] = field(default_factory=list)
    #: Collisions nothing above resolves; a dialect may still (SQLite defers foreign keys).
    blocked: list[Blocked] = field(default_factory=list)

    def parents_first(self) -> list[TablePlan]:
        return list(self.tables)

    def children_first(self) -> list[TablePlan]:
        return list(reversed(self.tables))

    def table(self, name: str) -> TablePlan:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def release_blocked_deletes(self) -> None:
        """Let blocked deletes go first after all (the dialect defers foreign keys)."""
        for blocked in self.blocked:
            if blocked.operation == "delete":
                self.table(blocked.table).early.add(blocked.key)
        self.blocked = [b for b in self.blocked if b.operation != "delete"]

    def rekey_blocked_deletes(self) -> None:
        """Write each blocked delete that an insert of its table repeats under a new key (the
        same value in every other column it names) as an UPDATE of the key: ON UPDATE CASCADE
        carries the new key to the rows that refer to it, so the delete, the insert and the
        referrers' repointing all hold row by row. Only for a one-column key of a table whose
        every referring foreign key cascades updates; the rest stays blocked.

        The insert then finds its row there (and is skipped) and the delete finds nothing.
        """
        left: list[Blocked] = []
        for blocked in self.blocked:
            table = self.table(blocked.table) if blocked.operation == "delete" else None
            if table is not None and blocked.key in table.rekeys:
                continue  # another row referring to it named it already
            new = _repeating_insert(table, blocked.key) if table is not None else None
            if table is None or new is None:
                left.append(blocked)
                continue
            table.rekeys[blocked.key] = new
        self.blocked = left


def build_plan(
    metadata: sa.MetaData,
    changes: ChangeSet,
    defers: Callable[[UniqueKey], bool] = lambda key: False,
) -> Plan:
    """The plan of ``changes``. ``defers`` tells which unique constraints the dialect defers
    instead of parking rows around them."""
    for name in changes.tables:
        if name not in metadata.tables:
            raise KeyError(f"change set names table {name!r}, which the metadata lacks")
    order = parents_first(metadata, [n for n, c in changes.tables.items() if c])
    plan = Plan([TablePlan(metadata.tables[name], changes.tables[name]) for name in order])
    unparked: dict[str, set[Key]] = {}
    for table in plan.tables:
        table.self_references = self_references(table.table)
        if table.self_references:
            table.insert_depth = _depths(
                table.name, table.changes.inserts, table.keys, table.self_references
            )
            table.delete_depth = _depths(
                table.name, table.changes.deletes, table.keys, table.self_references
            )
        if table.changes.inserts:
            table.sequence = sequence_column(table.table)
        unparked[table.name] = _plan_collisions(metadata, table, plan, defers)
    _plan_early_deletes(metadata, plan, unparked)
    return plan


# -- unique collisions -----------------------------------------------------------------


@dataclass
class _Side:
    """One row's values of a unique constraint's columns, as far as the change set knows
    them (an update knows only the columns it changes)."""

    key: Key
    values: dict[str, Any]


def _plan_collisions(
    metadata: sa.MetaData, table: TablePlan, plan: Plan, defers: Callable[[UniqueKey], bool]
) -> set[Key]:
    """Park the rows whose unique values another row takes; return the deletes that
    cannot be parked (they go first instead)."""
    changes = table.changes
    if not changes.updates and not changes.deletes:
        return set()
    referenced = referenced_columns(metadata, table.table)
    unparked_deletes: set[Key] = set()
    update_columns: dict[Key, list[str]] = defaultdict(list)
    delete_columns: dict[Key, list[str]] = defaultdict(list)
    for unique in unique_keys(table.table):
        update_takers, update_vacaters = _update_sides(changes.updates, table.keys, unique)
        if not update_vacaters and not changes.deletes:
            continue
        if not update_takers and not changes.inserts:
            continue
        takers = [*_full_sides(changes.inserts, table.keys, unique), *update_takers]
        vacaters = [
            *(("update", side) for side in update_vacaters),
            *(("delete", side) for side in _full_sides(changes.deletes, table.keys, unique)),
        ]
        colliding = _colliding(takers, vacaters)
        if not colliding:
            continue
        if defers(unique):
            if unique not in plan.deferred:
                plan.deferred.append(unique)
            table.deferred_vacaters.update((operation, side.key) for operation, side in colliding)
            continue
        for operation, side in colliding:
            choices = unique.columns if operation == "delete" else tuple(side.values)
            chosen = _parking_column(table.table, choices, referenced)
            if chosen is not None:
                column, parking = chosen
                table.parking[column] = parking
                target = delete_columns if operation == "delete" else update_columns
                if column not in target[side.key]:
                    target[side.key].append(column)
            elif operation == "delete":
                unparked_deletes.add(side.key)
            else:
                plan.blocked.append(
                    Blocked(
                        table.name,
                        table.keys,
                        side.key,
                        "update",
                        f"takes or frees values of {unique} that another row of the change "
                        "set frees or takes, and none of the columns it changes can hold a "
                        "temporary value (only a nullable, text or number column that no "
                        "foreign key involves can)",
                    )
                )
    if update_columns:
        for position, update in enumerate(changes.updates):
            key = row_key(update.key, table.keys)
            if key in update_columns:
                ordinal = table.update_ordinal(position)
                table.park_updates[key] = Park(tuple(update_columns[key]), ordinal)
    if delete_columns:
        for position, row in enumerate(changes.deletes):
            key = row_key(row, table.keys)
            if key in delete_columns and key not in unparked_deletes:
                table.park_deletes[key] = Park(
                    tuple(delete_columns[key]), table.delete_ordinal(position)
                )
    for column, parking in table.parking.items():
        if parking is Parking.NUMBER:
            table.number_floor[column] = _largest(changes, column)
    return unparked_deletes


def _update_sides(
    updates: Sequence[RowUpdate], keys: tuple[str, ...], unique: UniqueKey
) -> tuple[list[_Side], list[_Side]]:
    takers, vacaters = [], []
    for update in updates:
        changed = [column for column in unique.columns if column in update.after]
        if changed:
            key = row_key(update.key, keys)
            takers.append(_Side(key, {c: update.after[c] for c in changed}))
            vacaters.append(_Side(key, {c: update.before.get(c) for c in changed}))
    return takers, vacaters


def _full_sides(rows: Iterable[Row], keys: tuple[str, ...], unique: UniqueKey) -> Iterator[_Side]:
    for row in rows:
        yield _Side(row_key(row, keys), {c: row.get(c) for c in unique.columns})


def _colliding(takers: list[_Side], vacaters: list[tuple[str, _Side]]) -> list[tuple[str, _Side]]:
    """The vacating rows whose values a taking row (another row) may take.

    Where a side does not know a column (an update leaves it), the two may agree on it: only
    columns both sides know can tell them apart. NULL never collides.
    """
    takers = [t for t in takers if None not in t.values.values()]
    groups: dict[frozenset[str], list[tuple[str, _Side]]] = defaultdict(list)
    for operation, side in vacaters:
        if None not in side.values.values():
            groups[frozenset(side.values)].append((operation, side))
    found: dict[tuple[str, Key], tuple[str, _Side]] = {}
    for known, members in groups.items():
        indexes: dict[tuple[str, ...], dict[tuple[Any, ...], list[tuple[str, _Side]]]] = {}
        for taker in takers:
            common = tuple(sorted(known & taker.values.keys()))
            if not common:
                candidates: Iterable[tuple[str, _Side]] = members
            else:
                index = indexes.get(common)
                if index is None:
                    index = defaultdict(list)
                    for member in members:
                        index[tuple(member[1].values[c] for c in common)].append(member)
                    indexes[common] = index
                candidates = index.get(tuple(taker.values[c] for c in common), ())
            for operation, side in candidates:
                if side.key != taker.key:
                    found[(operation, side.key)] = (operation, side)
    return list(found.values())


def _parking_column(
    table: sa.Table, choices: Iterable[str], referenced: set[str]
) -> tuple[str, Parking] | None:
    ranked = [
        (_PARKING_ORDER.index(parking), column, parking)
        for column in choices
        if (parking := parking_of(table.c[column], referenced)) is not None
    ]
    if not ranked:
        return None
    _rank, column, parking = min(ranked, key=lambda entry: entry[:2])
    return column, parking


def _largest(changes: TableChanges, column: str) -> Any:
    """The largest number the change set writes into ``column`` (None if none)."""
    values = [row.get(column) for row in changes.inserts]
    values += [update.after.get(column) for update in changes.updates]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return max(numbers) if numbers else None


# -- re-keys -----------------------------------------------------------------------------


def _repeating_insert(table: TablePlan, key: Key) -> Key | None:
    """The key of the insert that repeats the delete of ``key`` under a new key, where a
    re-key can write it (see ``Plan.rekey_blocked_deletes``); None otherwise."""
    if len(table.keys) != 1 or not _updates_cascade(table.table):
        return None
    taken = set(table.rekeys.values())
    [deleted] = [row for row in table.changes.deletes if row_key(row, table.keys) == key]
    content = {c: v for c, v in deleted.items() if c not in table.keys}
    for row in table.changes.inserts:
        new = row_key(row, table.keys)
        others = {c: v for c, v in row.items() if c not in table.keys}
        if (
            new != key
            and new not in taken
            and others.keys() == content.keys()
            and all(same_value(others[c], content[c]) for c in content)
        ):
            return new
    return None


def _updates_cascade(table: sa.Table) -> bool:
    """Whether every foreign key that refers to ``table`` follows an update of its key."""
    assert table.metadata is not None
    return all(
        (key.constraint is None or str(key.constraint.onupdate or "").upper() == "CASCADE")
        for other in table.metadata.tables.values()
        for key in other.foreign_keys
        if key.column.table is table
    )


# -- deletes that go first -------------------------------------------------------------


def _plan_early_deletes(metadata: sa.MetaData, plan: Plan, unparked: dict[str, set[Key]]) -> None:
    """Deletes that cannot step aside go before the inserts, and with them (first) the rows
    that refer to them and are deleted too. A row that refers to one and is only updated
    would have to change first, before the row it is updated to exists: blocked."""
    pending = {name: set(keys) for name, keys in unparked.items() if keys}
    planned = {table.name: table for table in plan.tables}
    while pending:
        name, keys = pending.popitem()
        parent = planned[name]
        new = keys - parent.early
        if not new:
            continue
        parent.early |= new
        rows = [row for row in parent.changes.deletes if row_key(row, parent.keys) in new]
        for child in plan.tables:
            for constraint in child.table.foreign_key_constraints:
                if constraint.referred_table is not parent.table:
                    continue
                columns = [column.name for column in constraint.columns]
                referred = [element.column.name for element in constraint.elements]
                targets = {
                    tuple(row.get(c) for c in referred): row_key(row, parent.keys) for row in rows
                }
                for row in child.changes.deletes:
                    values = tuple(row.get(c) for c in columns)
                    if values in targets and row_key(row, child.keys) not in child.early:
                        pending.setdefault(child.name, set()).add(row_key(row, child.keys))
                for update in child.changes.updates:
                    if not all(c in update.before for c in columns):
                        continue
                    values = tuple(update.before[c] for c in columns)
                    if values in targets:
                        referrer = _shown(child.keys, row_key(update.key, child.keys))
                        plan.blocked.append(
                            Blocked(
                                parent.name,
                                parent.keys,
                                targets[values],
                                "delete",
                                f"its unique values are taken by another row of the change "
                                f"set, none of its unique columns can hold a temporary value, "
                                f"and {child.name} {referrer} "
                                f"refers to it until it is updated",
                            )
                        )
    for blocked in plan.blocked:
        if blocked.operation == "delete":
            planned[blocked.table].early.discard(blocked.key)


# -- rows of a table that refers to itself ---------------------------------------------


def _depths(
    table: str, rows: Iterable[Row], keys: tuple[str, ...], references: list[SelfReference]
) -> dict[Key, int]:
    """How many of its own ancestors each row has among ``rows`` (0: none among them)."""
    by_referred: dict[tuple[str, ...], dict[tuple[Any, ...], Key]] = {}
    links: list[tuple[Key, list[tuple[tuple[str, ...], tuple[Any, ...]]]]] = []
    for row in rows:
        key = row_key(row, keys)
        for reference in references:
            index = by_referred.setdefault(reference.referred, {})
            index[tuple(row.get(c) for c in reference.referred)] = key
        links.append(
            (key, [(r.referred, tuple(row.get(c) for c in r.columns)) for r in references])
        )
    parents: dict[Key, list[Key]] = {}
    for key, references_of_row in links:
        found = [
            parent
            for referred, values in references_of_row
            if None not in values
            and (parent := by_referred[referred].get(values)) is not None
            and parent != key
        ]
        if found:
            parents[key] = found
    depth: dict[Key, int] = {}
    for start in parents:
        _depth_of(table, start, parents, depth)
    return depth


def _depth_of(table: str, start: Key, parents: dict[Key, list[Key]], depth: dict[Key, int]) -> None:
    path: list[Key] = []
    on_path: set[Key] = set()
    stack: list[tuple[Key, int]] = [(start, 0)]
    while stack:
        key, index = stack.pop()
        if key in depth:
            continue
        ancestors = parents.get(key, [])
        if index == 0:
            if key in on_path:
                cycle = " -> ".join(repr(k) for k in [*path[path.index(key) :], key])
                raise ApplyError(f"{table}: rows refer to each other in a cycle: {cycle}")
            path.append(key)
            on_path.add(key)
        if index < len(ancestors):
            stack.append((key, index + 1))
            stack.append((ancestors[index], 0))
            continue
        depth[key] = 1 + max((depth[a] for a in ancestors), default=-1)
        path.pop()
        on_path.discard(key)
