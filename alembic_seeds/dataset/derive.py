"""A seed spec derived from the metadata, for projects whose tables say enough by themselves.

``derive_spec(metadata)`` writes every seeded table as one file, ``TABLE.jsonl``, one row per
line, a field per column, and makes references readable where the schema allows it:

- A table has a **label** when it has exactly one natural key: one unique constraint (or
  unique index) besides its primary key, on a single text column that is not null and not
  a foreign key. The label is that column (``"{code}"``), unique by construction.
- A **foreign key** (a single column, to the primary key of a seeded table) is written as
  the label of the row it points to when that table has a label (the field is named after
  the column without its ``_id``/``Id`` suffix: ``country_id`` -> ``country``), else as the
  column's value, the id (the field keeps the column's name). A table referring to itself
  (a parent row) is no exception.
- An **association table** (exactly two columns, together its primary key, each a foreign
  key to a seeded table) has no file: it is a list in the rows of the table that owns it,
  ``"tag": ["coastal", "wine"]``, of the labels (or text ids) of the rows of the other
  table. The owner is the side whose list can hold labels: when only one side has a label,
  the other side owns the table; otherwise the table of the first primary key column owns
  it (the order its author declared it in: ``subdivision_id, tag_id`` makes tags a list in
  each subdivision). The list is named after the other table, or after the association
  table itself where that name is taken (and always when both columns refer to one table,
  a hierarchy such as ``module_parent``). An association table whose lists could hold
  neither labels nor text ids (the other side has integer ids and no label) keeps a file
  of its own.

Which tables are seeded: those named in ``tables``, in that order; by default every table
of the metadata, in the order it was defined, but Alembic's version table and the log of
applied data revisions (``NOT_SEEDED``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from alembic_seeds.dataset.spec import Field, FileSpec, Links, Ref, RowSpec, SeedSpec, Value
from alembic_seeds.errors import ConfigError

#: Tables of the metadata that are never seed data: Alembic's version table and the log of
#: applied data revisions (``alembic_seeds.migration.log.LOG_TABLE``).
NOT_SEEDED = ("alembic_version", "alembic_seeds_log")

#: Suffixes dropped from a foreign key column's name for the field that writes it as a label.
_REFERENCE_SUFFIXES = ("_id", "Id")


def derive_spec(metadata: sa.MetaData, tables: Sequence[str] | None = None) -> SeedSpec:
    """The spec of ``tables`` (None: every table but ``NOT_SEEDED``), as the module says."""
    if tables is None:
        names = [name for name in metadata.tables if name not in NOT_SEEDED]
    else:
        unknown = [name for name in tables if name not in metadata.tables]
        if unknown:
            raise ConfigError(f"tables {', '.join(unknown)}: not in the metadata")
        names = list(dict.fromkeys(tables))
    return _Deriver(metadata, names).spec()


@dataclass(frozen=True)
class _Association:
    """An association table, seen from the table that owns it: ``field`` in its rows."""

    field: str
    table: str
    own_column: str
    other_column: str
    other_table: str


class _Deriver:
    def __init__(self, metadata: sa.MetaData, names: list[str]) -> None:
        self.metadata = metadata
        self.names = names
        self.seeded = set(names)
        self.labels = {name: _natural_key(metadata.tables[name]) for name in names}
        #: Owner table -> the association tables written as lists in its rows.
        self.owned: dict[str, list[_Association]] = {}
        for name in names:
            self._place_association(metadata.tables[name])

    def spec(self) -> SeedSpec:
        placed = {a.table for owned in self.owned.values() for a in owned}
        files = [
            FileSpec(f"{name}.jsonl", self._rows(self.metadata.tables[name]))
            for name in self.names
            if name not in placed
        ]
        return SeedSpec(files=tuple(files))

    def _rows(self, table: sa.Table) -> RowSpec:
        fields: dict[str, Field] = {}
        label_column = self.labels[table.key]
        label: str | None = None
        columns = {column.name for column in table.columns}
        lists = {association.field for association in self.owned.get(table.key, [])}
        for column in table.columns:
            target = self._labelled_target(column)
            if target is None:
                name = column.name
                fields[name] = Value(name)
            else:
                taken = (columns - {column.name}) | lists | set(fields)
                name = _reference_name(column.name, taken)
                fields[name] = Ref(column.name, target)
            if column.name == label_column:
                label = f"{{{name}}}"
        for association in self.owned.get(table.key, []):
            fields[association.field] = Links(
                association.table,
                association.own_column,
                association.other_column,
                association.other_table,
            )
        return RowSpec(table.key, fields, label=label, unique_label=label is not None)

    def _labelled_target(self, column: sa.Column[Any]) -> str | None:
        """The seeded table with a label that ``column`` refers to, by its primary key."""
        target = _referred_table(column)
        if target is None or target.key not in self.seeded or self.labels[target.key] is None:
            return None
        return target.key

    def _place_association(self, table: sa.Table) -> None:
        """Make ``table`` a list in the rows of its owner, if it is an association table that
        can be one (see the module's documentation for which side owns it)."""
        columns = list(table.columns)
        if len(columns) != 2 or not all(column.primary_key for column in columns):
            return
        targets = [_referred_table(column) for column in columns]
        sides = [
            (column.name, target.key)
            for column, target in zip(columns, targets, strict=True)
            if target is not None and target.key in self.seeded
        ]
        if len(sides) != 2:
            return
        first, second = sides
        orientations = [(first, second), (second, first)]
        if self.labels[first[1]] is not None and self.labels[second[1]] is None:
            orientations.reverse()  # lists of the first side's labels, in the second's rows
        for (own_column, owner), (other_column, other_table) in orientations:
            if self.labels[other_table] is None and not _text_key(
                self.metadata.tables[other_table]
            ):
                continue  # a list holds labels or text ids, nothing else
            candidates = [table.key] if owner == other_table else [other_table, table.key]
            taken = {column.name for column in self.metadata.tables[owner].columns} | {
                association.field for association in self.owned.get(owner, [])
            }
            free = [name for name in candidates if name not in taken]
            if free:
                association = _Association(
                    free[0], table.key, own_column, other_column, other_table
                )
                self.owned.setdefault(owner, []).append(association)
                return
            if owner == other_table:
                return  # a hierarchy: the other orientation is the same table again


def _referred_table(column: sa.Column[Any]) -> sa.Table | None:
    """The table ``column`` refers to when it is a one-column foreign key to its primary key."""
    for key in column.foreign_keys:
        constraint = key.constraint
        target = key.column.table
        if (
            constraint is not None
            and len(constraint.elements) == 1
            and [c.name for c in target.primary_key] == [key.column.name]
        ):
            return target
    return None


def _natural_key(table: sa.Table) -> str | None:
    """The one column that names the rows of ``table``, if it has exactly one."""
    primary = {column.name for column in table.primary_key}
    groups = {
        frozenset(column.name for column in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint)
    } | {
        frozenset(column.name for column in index.columns)
        for index in table.indexes
        if index.unique
    }
    groups.discard(frozenset(primary))
    if len(groups) != 1:
        return None
    (group,) = groups
    if len(group) != 1:
        return None
    column = table.columns[next(iter(group))]
    if column.nullable or column.foreign_keys or not isinstance(column.type, sa.String):
        return None
    return column.name


def _text_key(table: sa.Table) -> bool:
    """Rows of ``table`` can be referred to by id in a list (``{"id": "..."}``)."""
    keys = list(table.primary_key)
    return len(keys) == 1 and isinstance(keys[0].type, sa.String)


def _reference_name(column: str, taken: set[str]) -> str:
    """The field name of a foreign key written as a label: the column without its suffix."""
    for suffix in _REFERENCE_SUFFIXES:
        stem = column[: -len(suffix)]
        if column.endswith(suffix) and stem and stem not in taken:
            return stem
    return column
