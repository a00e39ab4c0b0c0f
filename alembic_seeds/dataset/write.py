"""Writing a ``Dataset`` as ``seeddata/`` files: the inverse of ``load``.

Rows keep the order they have in the dataset, references are written as labels (by id
only where a label is ambiguous), and rows defined in place (inline or owned) are left out
of their own table's file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic_seeds.changes.changeset import Dataset, Key
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.dataset.spec import Links, Owned, Ref, RowSpec, SeedSpec, Value
from alembic_seeds.errors import UnplacedRowsError


def render_seeddata(
    spec: SeedSpec, dataset: Dataset, only: Dataset | None = None
) -> dict[str, str]:
    """The text of every file of ``spec`` that holds rows (path relative to the folder).

    With ``only``, just those rows are written; ``dataset`` gives the labels they refer to.
    """
    return _Writer(spec, dataset, only).render()


def write_seeddata(
    folder: Path, spec: SeedSpec, dataset: Dataset, only: Dataset | None = None
) -> list[Path]:
    """Write the files of ``dataset`` into ``folder``; files left without rows are removed."""
    files = render_seeddata(spec, dataset, only)
    written = []
    for file in spec.files:
        path = folder / file.path
        text = files.get(file.path)
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def format_line(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


class _Writer:
    def __init__(self, spec: SeedSpec, dataset: Dataset, only: Dataset | None) -> None:
        self.spec = spec
        self.dataset = dataset
        self.written = dataset if only is None else only
        self.labeler = RowNamer.of_dataset(spec, dataset)
        self.indexes: dict[str, dict[str, list[Key]]] = {}
        self.placed_elsewhere: dict[str, set[Key]] = {}
        self.links: dict[tuple[str, str], dict[Any, list[Any]]] = {}
        self._collect()

    def _collect(self) -> None:
        for file in self.spec.files:
            owner_rows = self.dataset.get(file.rows.table, {})
            for kind in file.rows.fields.values():
                if isinstance(kind, Owned) or (isinstance(kind, Ref) and kind.inline):
                    placed = self.placed_elsewhere.setdefault(kind.table, set())
                    placed.update((row[kind.column],) for row in owner_rows.values())
                elif isinstance(kind, Links):
                    by_owner = self.links.setdefault((kind.table, kind.own_column), {})
                    for row in self.dataset.get(kind.table, {}).values():
                        by_owner.setdefault(row[kind.own_column], []).append(row[kind.other_column])

    def render(self) -> dict[str, str]:
        files: dict[str, str] = {}
        homes = {file.rows.table for file in self.spec.files}
        for file in self.spec.files:
            placed = self.placed_elsewhere.get(file.rows.table, set())
            lines = [
                format_line(self._object(file.rows, key, row))
                for key, row in self.written.get(file.rows.table, {}).items()
                if key not in placed
            ]
            if lines:
                files[file.path] = "\n".join(lines) + "\n"
        for table, rows in self.written.items():
            if table in homes or not rows:
                continue
            embedded = self.placed_elsewhere.get(table)
            if embedded is not None and not rows.keys() <= embedded:
                missing = sorted(str(key[0]) for key in rows.keys() - embedded)[:5]
                raise UnplacedRowsError(f"{table} rows with no place in seeddata: {missing}")
        return files

    def _object(self, rows: RowSpec, key: Key, row: Mapping[str, Any]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for name, kind in rows.fields.items():
            if isinstance(kind, Links):
                others = self.links.get((kind.table, kind.own_column), {}).get(key[0], [])
                if others:
                    obj[name] = [self._reference(kind.other_table, other) for other in others]
                continue
            value = row.get(kind.column)
            if value is None:
                continue
            if isinstance(kind, Value | Owned):
                obj[name] = value
            elif kind.inline:
                target_rows = self.spec.row_spec(kind.table)
                assert target_rows is not None
                target_key = (value,)
                obj[name] = self._object(
                    target_rows, target_key, self.dataset[kind.table][target_key]
                )
            else:
                obj[name] = self._reference(kind.table, value)
        return obj

    def _reference(self, table: str, value: Any) -> Any:
        label = self.labeler.natural_label(table, (value,))
        if label is not None:
            if table not in self.indexes:
                self.indexes[table] = self.labeler.index(table)
            if len(self.indexes[table].get(label, [])) == 1:
                return label
        return {"id": value}
