"""Edits a person makes in one place of ``seeddata/`` that other places have to follow.

A text used by several rows is written in each place. When the copies disagree, the state
the data revisions produce tells which copy was edited: if exactly one of the values differs
from it, that value is the edit, and every other copy is rewritten with it. A row whose label
changed (a renamed module, a course at a renamed university) is still found by its old label
in the lines that refer to it; those references are rewritten with the new one.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alembic_seeds.changes.changeset import Dataset, Key
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.dataset.spec import Owned, Ref, SeedSpec

Origin = tuple[str, int]
Row = dict[str, Any]


@dataclass
class Copies:
    """One value of a row written in several places, and where it is written."""

    row: Row
    origins: list[Origin] = field(default_factory=list)
    #: Places holding this value beyond those in ``origins`` (counted, not located).
    unlocated: int = 0

    @property
    def count(self) -> int:
        return len(self.origins) + self.unlocated


@dataclass(frozen=True)
class TextEdit:
    """A row written in several places whose copies disagree, settled by the one edit."""

    table: str
    key: Key
    #: The first place that holds the edit.
    origin: Origin
    #: Field -> (before, after), for the fields the edit changed.
    changed: Mapping[str, tuple[Any, Any]]
    #: Places the row is written in, and how many of them still held the old value.
    places: int
    rewritten: int

    def explain(self) -> str:
        """What ``seeds validate`` says: the edit, and that the other copies will follow."""
        held = "still holds" if self.rewritten == 1 else "still hold"
        return (
            f"{_at(self.origin)}: edited text: {self._name()} {_changes(self.changed)}: "
            f"written in {self.places} places, {self.rewritten} {held} the old text; "
            "`seeds revision --autogenerate` writes the edit into "
            f"{'it' if self.rewritten == 1 else 'them'}"
        )

    def report(self) -> str:
        """What ``seeds revision`` says once it wrote the edit into every copy."""
        return (
            f"Wrote the edit of {self._name()} ({_changes(self.changed)}) into "
            f"{_count(self.rewritten, 'more place')} of seeddata/ ({self.places} in all)"
        )

    def _name(self) -> str:
        return f"{self.table} {show_key(self.key)}"


@dataclass
class Rename:
    """A row found by its old label, in the lines that still refer to it by that label."""

    table: str
    key: Key
    before: str
    after: str
    #: The renamed row's own line.
    origin: Origin
    #: Every reference by the old label (one entry per reference: a line may hold several).
    references: list[Origin] = field(default_factory=list)

    def explain(self) -> str:
        """What ``seeds validate`` says: the rename, and that the references will follow."""
        return (
            f"{_at(self.origin)}: renamed: {self.table} {_json(self.before)} is now "
            f"{_json(self.after)}: {self._references()} "
            f"{'uses' if len(self.references) == 1 else 'use'} the old label; "
            "`seeds revision --autogenerate` rewrites them"
        )

    def report(self) -> str:
        """What ``seeds revision`` says once it rewrote the references."""
        return (
            f"Rewrote {self._references()} of seeddata/ to {self.table} "
            f"{_json(self.before)}, now {_json(self.after)}"
        )

    def _references(self) -> str:
        lines = len(set(self.references))
        return f"{_count(len(self.references), 'reference')} in {_count(lines, 'line')}"


# -- copies that disagree --------------------------------------------------------------


@dataclass(frozen=True)
class Settled:
    """The edited value of a row whose copies disagree, and which copies held the old one."""

    edit: Copies
    old: Copies


def settle(values: Sequence[Copies], before: Row | None, columns: Sequence[str]) -> Settled | None:
    """The one edit that explains ``values`` (the distinct values of one row, in the order
    they were read), given the row ``before`` in the previous state; None when there is none.

    Exactly two values, one of them the previous row and the other not: the other is the
    edit. Anything else (no previous row, both values edited, three values) is a conflict.
    """
    if before is None or len(values) != 2:
        return None
    unchanged = [copies for copies in values if _same(copies.row, before, columns)]
    if len(unchanged) != 1:
        return None
    (edit,) = [copies for copies in values if copies is not unchanged[0]]
    return Settled(edit, unchanged[0])


def conflict(
    table: str,
    key: Key,
    values: Sequence[Copies],
    before: Row | None,
    fields: Mapping[str, str],
) -> tuple[Origin, str]:
    """Where to report copies that no single edit explains, and the line's detail: every
    value and where it is written, edited values first.

    ``fields`` maps the columns compared to the field names people write (``he_text`` ->
    ``he``); only the fields whose values differ are shown.
    """
    columns = list(fields)
    edited = [c for c in values if before is None or not _same(c.row, before, columns)]
    edited = edited or list(values[-1:])
    unchanged = [c for c in values if all(c is not e for e in edited)]
    # Reported at the last edited value read; the others follow, edited ones first.
    here = edited[-1]
    others = [*edited[:-1], *unchanged]
    differing = [
        column
        for column in columns
        if len({_json(copies.row.get(column)) for copies in values}) > 1
    ]
    parts = [f"here {_fields(here.row, differing, fields)}{_more(here)}"]
    for copies in others:
        parts.append(
            f"at {_at(copies.origins[0])} {_fields(copies.row, differing, fields)}{_more(copies)}"
        )
    if before is None:
        tail = "there is no earlier state of it to tell which copy was edited: make them agree"
    else:
        tail = (
            f"the data revisions hold {_fields(before, differing, fields)}: "
            "edit one copy only, or make them agree"
        )
    detail = f"{table} {show_key(key)} is written differently: {', '.join(parts)}; {tail}"
    return here.origins[0], detail


def changed_fields(
    before: Row, after: Row, fields: Mapping[str, str]
) -> dict[str, tuple[Any, Any]]:
    """Field -> (before, after) for the columns of ``fields`` that differ."""
    return {
        name: (before.get(column), after.get(column))
        for column, name in fields.items()
        if before.get(column) != after.get(column)
    }


# -- how labels are made ---------------------------------------------------------------


def label_fields(template: str) -> list[str]:
    """The fields a label template (``"{name} @ {university}"``) is made of, in order."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return list(dict.fromkeys(names))


def label_sources(spec: SeedSpec) -> dict[str, set[str]]:
    """For each table, itself and every table whose rows its labels are made of."""
    direct: dict[str, set[str]] = {name: {name} for name in spec.tables()}
    for rows in [file.rows for file in spec.files] + list(spec.embedded):
        used = label_fields(rows.label) if rows.label else []
        for name, kind in rows.fields.items():
            if isinstance(kind, Ref) and name in used:
                direct[rows.table].add(kind.table)
            elif isinstance(kind, Owned):
                direct[kind.table].add(rows.table)  # named after its owner
    closure: dict[str, set[str]] = {}
    for name in direct:
        found: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(direct[current])
        closure[name] = found
    return closure


def fold_renames(
    found: Mapping[tuple[str, Key], Rename],
    *,
    spec: SeedSpec,
    dataset: Dataset,
    origins: Mapping[str, Mapping[Key, Origin]],
    labeler: RowNamer,
    old: RowNamer,
) -> Iterable[Rename]:
    """The renames ``found`` (by row, with their references), one per renamed row with its
    labels before (``old``) and after (``labeler``).

    A row whose label is made of a renamed row's (a block named after its module, an edge
    after the blocks it joins, a course after its university) counts as a rename of that
    row: the references to it name that row too.
    """
    folded: dict[tuple[str, Key], Rename] = {}
    for row, rename in found.items():
        table, key = _rename_root(spec, dataset, labeler, found, row)
        owner = labeler.owner(table, key)
        if owner is not None and owner[1] in dataset[owner[0]]:
            table, key = owner
        entry = folded.get((table, key))
        if entry is None:
            before = old.natural_label(table, key) or rename.before
            after = labeler.natural_label(table, key) or ""
            entry = Rename(table, key, before, after, origins[table][key])
            folded[(table, key)] = entry
        entry.references.extend(rename.references)
    return folded.values()


def _rename_root(
    spec: SeedSpec,
    dataset: Dataset,
    labeler: RowNamer,
    renamed: Mapping[tuple[str, Key], Rename],
    row: tuple[str, Key],
) -> tuple[str, Key]:
    """The first renamed row that the label of ``row`` is made of (itself if none)."""
    seen = {row}
    todo = _label_parts(spec, dataset, labeler, row)
    while todo:
        part = todo.pop(0)
        if part in seen:
            continue
        seen.add(part)
        if part in renamed:
            return _rename_root(spec, dataset, labeler, renamed, part)
        todo.extend(_label_parts(spec, dataset, labeler, part))
    return row


def _label_parts(
    spec: SeedSpec, dataset: Dataset, labeler: RowNamer, row: tuple[str, Key]
) -> list[tuple[str, Key]]:
    """The rows whose labels the label of ``row`` is made of, in template order."""
    table, key = row
    owner = labeler.owner(table, key)
    parts = [] if owner is None else [owner]
    rows = spec.row_spec(table)
    values = dataset[table].get(key)
    if rows is None or rows.label is None or values is None:
        return parts
    for name in label_fields(rows.label):
        kind = rows.fields.get(name)
        if isinstance(kind, Ref) and values.get(kind.column) is not None:
            parts.append((kind.table, (values[kind.column],)))
    return parts


# -- how values are shown ---------------------------------------------------------------


def _same(row: Row, before: Row, columns: Sequence[str]) -> bool:
    return all(row.get(column) == before.get(column) for column in columns)


def _more(copies: Copies) -> str:
    extra = copies.count - 1
    return f" (and {_count(extra, 'more place')})" if extra > 0 else ""


def _fields(row: Row, columns: Sequence[str], fields: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'"{fields[c]}": {_json(row.get(c))}' for c in columns) + "}"


def _changes(changed: Mapping[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{name} {_json(old)} -> {_json(new)}" for name, (old, new) in changed.items())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def show_key(key: Key) -> str:
    """A key as messages show it: ``'id'``, or ``'a', 'b'`` for a composite key."""
    return ", ".join(repr(part) for part in key)


def _at(origin: Origin) -> str:
    return f"{origin[0]}:{origin[1]}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
