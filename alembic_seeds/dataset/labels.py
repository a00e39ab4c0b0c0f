"""Labels: the names people use for rows (natural keys), computed from a dataset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alembic_seeds.changes.changeset import Dataset, Key
from alembic_seeds.dataset.spec import Owned, Ref, RowSpec, SeedSpec, Value


class Labeler:
    """Labels of the rows of ``dataset`` as ``spec`` defines them, computed once each."""

    def __init__(self, spec: SeedSpec, dataset: Dataset) -> None:
        self._spec = spec
        self._dataset = dataset
        self._cache: dict[tuple[str, Key], str | None] = {}
        self._owners: dict[str, dict[Key, tuple[str, Key, str]]] | None = None

    def label(self, table: str, key: Key) -> str | None:
        """The row's label, or None when its table has no label or the row is missing."""
        cached = self._cache.get((table, key), _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        self._cache[(table, key)] = None  # guards against a cycle of labels
        label = self._compute(table, key)
        self._cache[(table, key)] = label
        return label

    def index(self, table: str) -> dict[str, list[Key]]:
        """Label -> keys of the rows that carry it (more than one key: ambiguous)."""
        result: dict[str, list[Key]] = {}
        for key in self._dataset.get(table, {}):
            label = self.label(table, key)
            if label is not None:
                result.setdefault(label, []).append(key)
        return result

    def owner(self, table: str, key: Key) -> tuple[str, Key] | None:
        found = self._owner_index().get(table, {}).get(key)
        return None if found is None else (found[0], found[1])

    def forget(self, table: str) -> None:
        """Drop cached labels of ``table`` (after its rows changed)."""
        for cached in [entry for entry in self._cache if entry[0] == table]:
            del self._cache[cached]
        self._owners = None

    def _compute(self, table: str, key: Key) -> str | None:
        row = self._dataset.get(table, {}).get(key)
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

    def _owner_index(self) -> dict[str, dict[Key, tuple[str, Key, str]]]:
        if self._owners is None:
            owners: dict[str, dict[Key, tuple[str, Key, str]]] = {}
            for file in self._spec.files:
                for kind in file.rows.fields.values():
                    if not isinstance(kind, Owned):
                        continue
                    target = owners.setdefault(kind.table, {})
                    for owner_key, row in self._dataset.get(file.rows.table, {}).items():
                        if row.get(kind.column) is not None:
                            target[(row[kind.column],)] = (file.rows.table, owner_key, kind.label)
            self._owners = owners
        return self._owners


_MISSING = object()


class _Parts(Mapping[str, str]):
    """The values a label template may name, looked up only when it names them."""

    def __init__(self, labeler: Labeler, rows: RowSpec, row: Mapping[str, Any]) -> None:
        self._labeler = labeler
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
            return self._labeler.label(kind.table, (value,)) or str(value)
        raise KeyError(name)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._rows.fields)

    def __len__(self) -> int:
        return len(self._rows.fields)
