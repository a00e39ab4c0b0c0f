"""Change sets: the difference between two states of reference data.

This layer knows plain Python only. A state is a ``Dataset``: for each table (by its name
in the database) the rows keyed by primary key, each row a dict from column name to a
JSON-compatible value. A ``ChangeSet`` holds, per table, the rows to insert, the rows to
update (changed columns only, with their values before and after) and the rows to delete
(with their whole before-image), so that it can be inverted exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal, overload

from alembic_seeds.errors import ChangeSetFormatError, ReplayError

Row = dict[str, Any]
Key = tuple[Any, ...]
Dataset = dict[str, dict[Key, Row]]
PrimaryKeys = Mapping[str, tuple[str, ...]]

#: What a count of changed rows holds, per table and in total (reports, the log table).
COUNTED = ("inserted", "updated", "deleted")

#: Prefix of every checksum, so that a change of the canonical form can be told apart.
CHECKSUM_VERSION = "v1"


@dataclass(frozen=True)
class RowUpdate:
    """One row whose non-key columns change: ``before`` and ``after`` hold those columns only."""

    key: Row
    before: Row
    after: Row

    def inverse(self) -> RowUpdate:
        return RowUpdate(self.key, self.after, self.before)


@dataclass
class TableChanges:
    """The changes of one table. The sequences may be lazy (read from a sidecar file as
    they are iterated), so code that applies them iterates once and keeps no copy."""

    inserts: Sequence[Row] = field(default_factory=list)
    updates: Sequence[RowUpdate] = field(default_factory=list)
    deletes: Sequence[Row] = field(default_factory=list)
    _named: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.updates or self.deletes)

    def columns(self, part: Literal["inserts", "updates", "deletes"]) -> list[str]:
        """The columns the rows of one part name, in the order they first appear (an
        update names its key and the columns it changes). Read once, then remembered: the
        rows may come from a sidecar file."""
        found = self._named.get(part)
        if found is None:
            names: dict[str, None] = {}
            if part == "updates":
                for update in self.updates:
                    names.update(dict.fromkeys(update.key))
                    names.update(dict.fromkeys(update.after))
            else:
                for row in self.inserts if part == "inserts" else self.deletes:
                    names.update(dict.fromkeys(row))
            found = self._named[part] = list(names)
        return found

    def inverse(self) -> TableChanges:
        return TableChanges(
            inserts=self.deletes, updates=_Inverted(self.updates), deletes=self.inserts
        )

    @property
    def size(self) -> int:
        return len(self.inserts) + len(self.updates) + len(self.deletes)


class _Inverted(Sequence[RowUpdate]):
    """The inverse of every update of a sequence, made one at a time."""

    def __init__(self, updates: Sequence[RowUpdate]) -> None:
        self._updates = updates

    def __len__(self) -> int:
        return len(self._updates)

    @overload
    def __getitem__(self, index: int) -> RowUpdate: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[RowUpdate]: ...
    def __getitem__(self, index: int | slice) -> RowUpdate | Sequence[RowUpdate]:
        if isinstance(index, slice):
            return [update.inverse() for update in self._updates[index]]
        return self._updates[index].inverse()

    def __iter__(self) -> Iterator[RowUpdate]:
        return (update.inverse() for update in self._updates)


@dataclass
class ChangeSet:
    """Per table changes; tables without changes are absent."""

    tables: dict[str, TableChanges] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.tables.values())

    def inverse(self) -> ChangeSet:
        return ChangeSet({name: changes.inverse() for name, changes in self.tables.items()})

    @property
    def size(self) -> int:
        return sum(changes.size for changes in self.tables.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """Per table (by name): rows inserted, updated and deleted."""
        return {
            name: row_counts(len(changes.inserts), len(changes.updates), len(changes.deletes))
            for name, changes in sorted(self.tables.items())
        }

    def totals(self) -> dict[str, int]:
        """Rows inserted, updated and deleted over every table."""
        return sum_counts(self.counts().values())

    def checksum(self) -> str:
        """A digest of the canonical form: equal change sets give equal checksums."""
        return checksum_of_lines(line.encode("utf-8") for line in canonical_lines(self))


def checksum_of_lines(lines: Iterable[bytes]) -> str:
    """The checksum of a change set from its canonical lines (without their line breaks),
    whether they are made in memory or read from a sidecar file."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line)
        digest.update(b"\n")
    return f"{CHECKSUM_VERSION}:{digest.hexdigest()}"


def row_counts(inserted: int = 0, updated: int = 0, deleted: int = 0) -> dict[str, int]:
    """One table's count of changed rows, in the shape every report uses."""
    return {"inserted": inserted, "updated": updated, "deleted": deleted}


def sum_counts(per_table: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The total of several counts (a count that lacks a word counts 0 for it)."""
    totals = row_counts()
    for counts in per_table:
        for word in COUNTED:
            totals[word] += counts.get(word, 0)
    return totals


def row_key(row: Mapping[str, Any], key_columns: Sequence[str]) -> Key:
    if len(key_columns) == 1:
        return (row[key_columns[0]],)  # the usual key, called once per row shown or written
    return tuple(row[column] for column in key_columns)


def diff(desired: Dataset, current: Dataset, primary_keys: PrimaryKeys) -> ChangeSet:
    """The change set that turns ``current`` into ``desired``.

    Rows are matched by primary key, so a change of any other column is an update of
    that row, never a delete plus an insert. Inserted and deleted rows are the states' own
    dicts, not copies (a first import holds every row: a copy of each would double its
    memory); nothing edits a change set's rows in place.
    """
    changes = ChangeSet()
    for table in sorted(set(desired) | set(current)):
        want = desired.get(table, {})
        have = current.get(table, {})
        key_columns = primary_keys[table]
        new_keys = want.keys() - have.keys() if have else want.keys()
        inserts = [want[key] for key in _sorted_keys(new_keys, len(key_columns))]
        # Only the changed rows are sorted: most rows of a table are the same in both.
        changed = {
            key: update
            for key, after in want.items()
            if (before := have.get(key)) is not None
            and (update := _row_update(before, after, key_columns)) is not None
        }
        updates = [changed[key] for key in _sorted_keys(changed, len(key_columns))]
        deletes = [have[key] for key in _sorted_keys(have.keys() - want.keys(), len(key_columns))]
        table_changes = TableChanges(inserts, updates, deletes)
        if table_changes:
            changes.tables[table] = table_changes
    return changes


def _row_update(before: Row, after: Row, key_columns: tuple[str, ...]) -> RowUpdate | None:
    if before == after and [*map(type, before.values())] == [*map(type, after.values())]:
        # The common case, decided at C speed (equal values of one type each; rows whose
        # columns come in another order are compared one column at a time below).
        return None
    changed = [
        column
        for column in sorted(set(before) | set(after))
        if column not in key_columns and not same_value(before.get(column), after.get(column))
    ]
    if not changed:
        return None
    return RowUpdate(
        key={column: after[column] for column in key_columns},
        before={column: before.get(column) for column in changed},
        after={column: after.get(column) for column in changed},
    )


def same_value(left: Any, right: Any) -> bool:
    """Equality as the database sees it: ``1 == True`` is not the same value."""
    return (type(left) is type(right) and left == right) or (
        isinstance(left, int | float)
        and isinstance(right, int | float)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
        and float(left) == float(right)
    )


def apply_to_dataset(state: Dataset, changes: ChangeSet, primary_keys: PrimaryKeys) -> None:
    """Replay ``changes`` on an in-memory state (offline replay of revisions).

    Raises ``ReplayError`` when a change does not fit the state, the offline twin of drift.
    """
    for table, table_changes in changes.tables.items():
        rows = state.setdefault(table, {})
        key_columns = primary_keys[table]
        for row in table_changes.deletes:
            key = row_key(row, key_columns)
            existing = rows.get(key)
            if existing is None or not same_row(existing, row):
                raise ReplayError(f"{table} {_show_key(key)}: delete does not match the state")
            del rows[key]
        for update in table_changes.updates:
            key = row_key(update.key, key_columns)
            existing = rows.get(key)
            if existing is None or any(
                not same_value(existing.get(column), value)
                for column, value in update.before.items()
            ):
                raise ReplayError(f"{table} {_show_key(key)}: update does not match the state")
            rows[key] = {**existing, **update.after}
        for row in table_changes.inserts:
            key = row_key(row, key_columns)
            if key in rows and not same_row(rows[key], row):
                raise ReplayError(f"{table} {_show_key(key)}: insert meets a different row")
            rows[key] = dict(row)


def same_row(left: Row, right: Row) -> bool:
    """The same row, a column that one of them leaves out being null (a column added to
    the table after a revision was written, which it does not name)."""
    if left == right:
        return True
    return all(
        same_value(left.get(column), right.get(column)) for column in left.keys() | right.keys()
    )


def _show_key(key: Key) -> str:
    return ", ".join(repr(part) for part in key)


def _sorted_keys(keys: Collection[Key], width: int) -> list[Key]:
    """Keys of ``width`` parts in a stable order; text keys (the usual case) sort as they
    are."""
    try:
        if width == 1:
            # The same order, sorted by the values themselves: comparing one-part tuples
            # costs twice as much, over millions of keys at x1000.
            return sorted(keys, key=itemgetter(0))
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=_sort_key)


def _sort_key(key: Key) -> tuple[tuple[int, str], ...]:
    # Keys may mix None, numbers and text; sort them by a type tag and their text form.
    return tuple((0, "") if part is None else (1, str(part)) for part in key)


# ---------------------------------------------------------------------------------------
# Canonical text form: one JSON object per line, used by sidecar files and checksums.


def canonical_lines(changes: ChangeSet) -> Iterator[str]:
    """One line per change, in a stable order: table name, then operation, then key order."""
    for table in sorted(changes.tables):
        table_changes = changes.tables[table]
        prefix = f'{{"table":{_dumps(table)},"op":'
        for row in table_changes.inserts:
            yield f'{prefix}"insert","row":{_dumps_sorted(row)}}}'
        for update in table_changes.updates:
            yield _dumps(
                {
                    "table": table,
                    "op": "update",
                    "key": _sorted(update.key),
                    "before": _sorted(update.before),
                    "after": _sorted(update.after),
                }
            )
        for row in table_changes.deletes:
            yield f'{prefix}"delete","row":{_dumps_sorted(row)}}}'


def parse_change(text: str) -> tuple[str, str, Row | RowUpdate]:
    """(table, op, row or update) of one canonical line."""
    try:
        entry = json.loads(text)
        table, op = entry["table"], entry["op"]
        if op == "update":
            return table, op, RowUpdate(entry["key"], entry["before"], entry["after"])
        if op in ("insert", "delete"):
            return table, op, entry["row"]
        raise ValueError(f"unknown op {op!r}")
    except (ValueError, KeyError, TypeError) as error:
        raise ChangeSetFormatError(f"malformed change: {error}") from None


def from_document(document: Mapping[str, Any]) -> ChangeSet:
    return ChangeSet(
        {
            table: TableChanges(
                inserts=[dict(row) for row in entry.get("inserts", [])],
                updates=[
                    RowUpdate(dict(u["key"]), dict(u["before"]), dict(u["after"]))
                    for u in entry.get("updates", [])
                ],
                deletes=[dict(row) for row in entry.get("deletes", [])],
            )
            for table, entry in document.items()
        }
    )


def _sorted(row: Mapping[str, Any]) -> dict[str, Any]:
    return {column: row[column] for column in sorted(row)}


# One encoder each, made once: ``json.dumps`` with options makes a new encoder per call,
# which is most of the cost of a short row (a first import writes millions of them). The
# text is the same as ``json.dumps`` gives with these options.
_SORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
_IN_ORDER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps_sorted(row: Mapping[str, Any]) -> str:
    return _SORTED.encode(row)


def _dumps(value: Any) -> str:
    # Key order is fixed by the caller (table, op, then the row's columns sorted by name).
    return _IN_ORDER.encode(value)
