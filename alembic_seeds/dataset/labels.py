"""How rows are named: the one namer that reading, writing, reviews and revisions share.

A row has two names, both given by its ``RowSpec``:

- its **label** (``label``): a natural key such as an English name; references to the row
  are written as it in ``seeddata/``, and an owned row is named after its owner
  (``course:{owner}``);
- its **display** (``display``, by default the label): what reviews and the comments of
  revision files show, such as ``English | Hebrew`` for a text.

A ``RowNamer`` names the rows of one or more states of the data: reading and writing
``seeddata/`` use one (``RowNamer.of_dataset``); a review uses the states after and before
a change, and names a row from the first of them that holds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from alembic_seeds.changes.changeset import Dataset, Key, row_key
from alembic_seeds.dataset.spec import Owned, Ref, RowSpec, SeedSpec, Value


class RowNamer:
    """Labels, display names, keys and values of rows, as ``spec`` defines them.

    ``states`` are the states rows are looked up in, in order of preference (for a review:
    the state after the change, then the one before it). ``metadata`` and ``keys`` (the
    primary key columns by table) are what naming a row from its values needs: a review
    has them, reading and writing ``seeddata/`` name rows by key only and need neither.
    """

    def __init__(
        self,
        spec: SeedSpec,
        metadata: sa.MetaData | None,
        keys: Mapping[str, tuple[str, ...]],
        *states: Dataset,
    ) -> None:
        self.keys = keys
        self._states = [_StateLabels(spec, state) for state in states]
        #: (table, column) -> table it refers to, for single-column primary keys only.
        self.references: dict[tuple[str, str], str] = {}
        for table in keys:
            if metadata is None or table not in metadata.tables:
                continue
            for column in metadata.tables[table].columns:
                for foreign_key in column.foreign_keys:
                    target = foreign_key.column.table.name
                    if keys.get(target) == (foreign_key.column.name,):
                        self.references[(table, column.name)] = target
        self._shown: dict[tuple[str, Key], str] = {}

    @classmethod
    def of_dataset(cls, spec: SeedSpec, dataset: Dataset) -> RowNamer:
        """The namer of the rows of one dataset, by key (reading and writing seeddata/)."""
        return cls(spec, None, {}, dataset)

    # -- labels: what references are written as ------------------------------------------

    def natural_label(self, table: str, key: Key) -> str | None:
        """The row's label, from the first state that holds the row; None when its table
        has no label or no state holds it."""
        for state in self._states:
            if key in state.rows(table):
                return state.label(table, key)
        return None

    def owner(self, table: str, key: Key) -> tuple[str, Key] | None:
        """The row that owns this one (an ``Owned`` row is named after its owner), from the
        first state that holds the row; None when no row owns it."""
        for state in self._states:
            if key in state.rows(table):
                return state.owner(table, key)
        return None

    def index(self, table: str) -> dict[str, list[Key]]:
        """Label -> keys of the rows of the first state that carry it (several: ambiguous)."""
        return self._states[0].index(table) if self._states else {}

    def forget(self, table: str, keys: list[Key] | None = None) -> None:
        """Drop the cached labels of ``table`` (of ``keys`` only, if given): the rows changed."""
        for state in self._states:
            state.forget(table, keys)
        self._shown = {entry: text for entry, text in self._shown.items() if entry[0] != table}

    # -- display names: what reviews show ------------------------------------------------

    def display(self, table: str, key: Key) -> str | None:
        """The row's display name from the first state where it has one, or None."""
        for state in self._states:
            if key in state.rows(table):
                shown = state.display(table, key)
                if shown:
                    return shown
        return None

    def label(self, table: str, row: Mapping[str, Any]) -> str:
        """The name of the row on one line: its display name, else (a join table row, whose
        key is made of references) the rows it joins, else its key."""
        key = self.key(table, row)
        cached = self._shown.get((table, key))
        if cached is not None:
            return cached
        shown = self.display(table, key)
        if shown is None:
            joined = [
                self.reference_label(target, row[column])
                for (owner, column), target in self.references.items()
                if owner == table and column in self.keys[table] and row[column] is not None
            ]
            found = [text for text in joined if text is not None]
            shown = " <-> ".join(found) if found else _show_key(key)
        shown = one_line(shown)
        self._shown[(table, key)] = shown
        return shown

    def reference_label(self, table: str, value: Any) -> str | None:
        """The display name of the row of ``table`` whose primary key is ``value``, if any."""
        if value is None or table not in self.keys:
            return None
        shown = self.display(table, (value,))
        return None if shown is None else one_line(shown)

    # -- keys and values -----------------------------------------------------------------

    def key(self, table: str, row: Mapping[str, Any]) -> Key:
        return row_key(row, self.keys[table])

    def key_text(self, table: str, row: Mapping[str, Any]) -> str:
        """``id "..."`` (or every key column, for a composite key)."""
        return ", ".join(f"{column} {value_text(row[column])}" for column in self.keys[table])

    def value(self, table: str, column: str, value: Any, owner_label: str | None = None) -> str:
        """The value as JSON, then the name of the row it refers to, if it is a reference
        (left out when it is ``owner_label``, the name of the row being shown)."""
        text = value_text(value)
        target = self.references.get((table, column))
        if target is not None:
            shown = self.reference_label(target, value)
            if shown is not None and shown != owner_label:
                return f"{text} ({shown})"
        return text

    def values(self, table: str, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(column, shown value) of the row's non-key columns, in column name order."""
        keys = self.keys[table]
        shown = self.label(table, row)
        return [
            (column, self.value(table, column, row[column], shown))
            for column in sorted(row)
            if column not in keys
        ]

    def sort_key(self, table: str, row: Mapping[str, Any]) -> tuple[str, str]:
        return (self.label(table, row), repr(self.key(table, row)))


def value_text(value: Any) -> str:
    """A value as JSON on one line (texts whole, line breaks as ``\\n``)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (line breaks included) as one space."""
    return " ".join(text.split())


def _show_key(key: Key) -> str:
    return ", ".join(repr(part) for part in key)


class _StateLabels:
    """Labels and display names of the rows of one dataset, each computed once."""

    def __init__(self, spec: SeedSpec, dataset: Dataset) -> None:
        self._spec = spec
        self._dataset = dataset
        self._labels: dict[tuple[str, Key], str | None] = {}
        self._owners: dict[str, dict[Key, tuple[str, Key, str]]] | None = None

    def rows(self, table: str) -> Mapping[Key, Mapping[str, Any]]:
        return self._dataset.get(table, {})

    def label(self, table: str, key: Key) -> str | None:
        cached = self._labels.get((table, key), _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        self._labels[(table, key)] = None  # guards against labels that name each other
        label = self._compute(table, key)
        self._labels[(table, key)] = label
        return label

    def display(self, table: str, key: Key) -> str | None:
        rows = self._spec.row_spec(table)
        row = self.rows(table).get(key)
        if rows is None or rows.display is None or row is None:
            return self.label(table, key)
        return rows.display.format_map(_Parts(self, rows, row))

    def index(self, table: str) -> dict[str, list[Key]]:
        result: dict[str, list[Key]] = {}
        for key in self.rows(table):
            label = self.label(table, key)
            if label is not None:
                result.setdefault(label, []).append(key)
        return result

    def forget(self, table: str, keys: list[Key] | None) -> None:
        if keys is None:
            for cached in [entry for entry in self._labels if entry[0] == table]:
                del self._labels[cached]
        else:
            for key in keys:
                self._labels.pop((table, key), None)
        self._owners = None

    def _compute(self, table: str, key: Key) -> str | None:
        row = self.rows(table).get(key)
        if row is None:
            return None
        owner = self._owner_index().get(table, {}).get(key)
        if owner is not None:
            owner_table, owner_key, template = owner
            return template.format(owner=self.label(owner_table, owner_key) or "?")
        rows = self._spec.row_spec(table)
        if rows is None or rows.label is None:
            return None
        return rows.label.format_map(_Parts(self, rows, row))

    def owner(self, table: str, key: Key) -> tuple[str, Key] | None:
        found = self._owner_index().get(table, {}).get(key)
        return None if found is None else (found[0], found[1])

    def _owner_index(self) -> dict[str, dict[Key, tuple[str, Key, str]]]:
        if self._owners is None:
            owners: dict[str, dict[Key, tuple[str, Key, str]]] = {}
            for file in self._spec.files:
                for kind in file.rows.fields.values():
                    if not isinstance(kind, Owned):
                        continue
                    target = owners.setdefault(kind.table, {})
                    for owner_key, row in self.rows(file.rows.table).items():
                        if row.get(kind.column) is not None:
                            target[(row[kind.column],)] = (file.rows.table, owner_key, kind.label)
            self._owners = owners
        return self._owners


_MISSING = object()


class _Parts(Mapping[str, str]):
    """The values a template may name, looked up only when it names them: a plain value
    as text, a reference as the label of the row it points to."""

    def __init__(self, labels: _StateLabels, rows: RowSpec, row: Mapping[str, Any]) -> None:
        self._labels = labels
        self._rows = rows
        self._row = row

    def __getitem__(self, name: str) -> str:
        kind = self._rows.fields[name]
        if isinstance(kind, Value):
            value = self._row.get(kind.column)
            return "" if value is None else str(value)
        if isinstance(kind, Ref):
            value = self._row.get(kind.column)
            if value is None:
                return ""
            return self._labels.label(kind.table, (value,)) or str(value)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows.fields)

    def __len__(self) -> int:
        return len(self._rows.fields)
