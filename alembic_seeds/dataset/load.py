"""Reading ``seeddata/`` into a validated ``Dataset``, before any connection is opened.

Every problem found is reported as ``path:line: rule: detail``; all of them are collected
before giving up, so one run shows everything there is to fix. A problem that follows from
another one (a reference to a row on a line that could not be read, say) is not reported:
one mistake, one line. Root causes come first: problems of reading a line, then of its
references, then of the dataset as a whole, each in the order the files are read.

Given the previous state (what the data revisions produce), two kinds of edit made in one
place are taken for what they are (see ``edits``): a text edited in one of the places it is
written, and a row whose label changed while other lines still refer to it by the old one.
"""

from __future__ import annotations

import codecs
import graphlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alembic_seeds.changes.changeset import Dataset, Key
from alembic_seeds.dataset.columns import ValueProblem, check_value, value_checker
from alembic_seeds.dataset.edits import (
    Copies,
    Origin,
    Rename,
    TextEdit,
    changed_fields,
    conflict,
    fold_renames,
    label_fields,
    label_sources,
    settle,
    show_key,
)
from alembic_seeds.dataset.indexes import oversized_rows
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.dataset.spec import FileSpec, Links, Owned, Ref, RowSpec, SeedSpec, Value
from alembic_seeds.errors import ConfigError, DatasetError, Problem
from alembic_seeds.memory import collector_paused

#: The state the data revisions produce (or a function computing it when first needed).
Previous = Dataset | Callable[[], Dataset | None] | None

#: When a problem is found: reading a line, resolving its references, checking the whole.
_READING, _REFERENCES, _WHOLE = range(3)


@dataclass
class LoadedDataset:
    rows: Dataset
    #: Where each row was written: (path, line) by table and key.
    origins: dict[str, dict[Key, Origin]]
    #: Rows written without an id, which got a new one (table, key), in file order; rows
    #: owned by another row (a module's block) included.
    assigned_ids: list[tuple[str, Key]] = field(default_factory=list)
    #: Rows read from base folders (another branch's seed data), by table.
    base_rows: dict[str, set[Key]] = field(default_factory=dict)
    #: Rows written in several places and edited in some: ``rows`` holds the edit.
    text_edits: list[TextEdit] = field(default_factory=list)
    #: Rows referred to by their old label somewhere: ``rows`` refers to them all the same.
    renames: list[Rename] = field(default_factory=list)

    @property
    def needs_rewrite(self) -> bool:
        """Whether writing ``rows`` back would change ``seeddata/`` beyond new ids."""
        return bool(self.text_edits or self.renames)

    def own_rows(self) -> Dataset:
        """The rows of the folder itself, without those of its base folders (``rows``
        itself when it has none)."""
        if not any(self.base_rows.values()):
            return self.rows
        return {
            table: {
                key: row for key, row in rows.items() if key not in self.base_rows.get(table, ())
            }
            for table, rows in self.rows.items()
        }


def primary_keys(metadata: sa.MetaData, tables: list[str]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(c.name for c in metadata.tables[name].primary_key) for name in tables}


def read_lines(path: Path, shown: str) -> Iterator[tuple[int, str]]:
    """Numbered lines of a UTF-8 text file, read one at a time (a file of a large dataset
    is never held whole). A file that is not UTF-8 raises ``DatasetError`` before its first
    line: none of its rows is taken, so nothing else is reported of them."""
    _check_encoding(path, shown)
    try:
        # Lines end at "\n" only, as JSON Lines says; a "\r" before it stays in the line.
        with path.open(encoding="utf-8", newline="\n") as file:
            for number, text in enumerate(file, start=1):
                yield number, text[:-1] if text.endswith("\n") else text
    except UnicodeDecodeError:  # the file changed since it was checked
        raise DatasetError([_encoding_problem(path, shown)]) from None


def _check_encoding(path: Path, shown: str) -> None:
    """Raise ``DatasetError`` unless ``path`` is UTF-8 without a byte order mark (decoded by
    blocks, nothing kept: a pass at the speed of the disk)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        head = file.read(3)
        if head == b"\xef\xbb\xbf":
            raise DatasetError(
                [Problem(shown, 1, "malformed", "file starts with a byte order mark")]
            )
        try:
            decoder.decode(head)
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DatasetError([_encoding_problem(path, shown)]) from None


def _encoding_problem(path: Path, shown: str) -> Problem:
    """Where ``path`` stops being UTF-8 (a file is decoded by blocks, not lines: this reads
    it again to find the line)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return Problem(shown, line, "malformed", f"invalid UTF-8 at byte {error.start}")
    return Problem(shown, 1, "malformed", "invalid UTF-8")  # changed while it was read


# Slots: one of these is kept per reference until references resolve (millions at scale).
@dataclass(slots=True)
class _PendingRef:
    table: str
    key: Key
    column: str
    target: str
    value: Any  # a label (str) or an id
    by_id: bool
    origin: Origin
    name: str


@dataclass(slots=True)
class _PendingLinks:
    kind: Links
    own_key: Key
    values: list[Any]
    origin: Origin
    name: str


@dataclass
class _RowPlan:
    """What parsing a row of one spec needs, looked up once per spec."""

    fields: list[tuple[str, Value | Ref | Owned | Links, sa.Column[Any] | None, Any]]
    key_columns: list[str]


#: A column a parsed row lacks (None is a value).
_ABSENT = object()


def _no_check(_value: Any) -> None:
    return None


@dataclass(slots=True)
class _ParsedRow:
    row: dict[str, Any] = field(default_factory=dict)
    refs: list[tuple[str, Ref, Any, bool]] = field(default_factory=list)
    links: list[tuple[str, Links, list[Any]]] = field(default_factory=list)
    owned: list[tuple[Owned, Any]] = field(default_factory=list)
    #: Ids made up for owned rows written without one.
    assigned_owned: list[Any] = field(default_factory=list)
    #: Columns whose value is a reference, resolved later.
    ref_columns: set[str] = field(default_factory=set)


@dataclass
class _Loader:
    spec: SeedSpec
    metadata: sa.MetaData
    #: (folder, how messages show it); rows of all of them form one dataset.
    folders: list[tuple[Path, str]]
    #: What the data revisions produce: tells edited copies and old labels apart.
    previous: Previous = None
    dataset: Dataset = field(default_factory=dict)
    origins: dict[str, dict[Key, Origin]] = field(default_factory=dict)
    #: Problems and how they rank: (phase, file in reading order, line, order found).
    ranked: list[tuple[tuple[int, int, int, int], Problem]] = field(default_factory=list)
    phase: int = _READING
    file_order: dict[str, int] = field(default_factory=dict)
    refs: list[_PendingRef] = field(default_factory=list)
    links: list[_PendingLinks] = field(default_factory=list)
    broken: set[tuple[str, Key]] = field(default_factory=set)
    indexes: dict[str, dict[str, list[Key]]] = field(default_factory=dict)
    assigned: list[tuple[str, Key]] = field(default_factory=list)
    #: Tables whose rows may be written in place, several times over.
    inline_tables: set[str] = field(default_factory=set)
    plans: dict[int, _RowPlan] = field(default_factory=dict)
    #: Ids of each table that are taken outside the seed data (by data revisions).
    used_ids: Callable[[str], Iterable[Any]] = lambda _table: ()
    #: Tables with rows whose key holds a reference (keyed once references are resolved).
    keyed_by_reference: set[str] = field(default_factory=set)
    #: Copies of inline rows identical to the first definition, beyond it.
    repeats: dict[tuple[str, Key], int] = field(default_factory=dict)
    #: Copies of inline rows that differ from the first definition, and where they are.
    conflicts: dict[tuple[str, Key], list[tuple[dict[str, Any], Origin]]] = field(
        default_factory=dict
    )
    #: Rows whose copies no single edit explains: the values other than the one kept.
    unsettled: list[tuple[str, Key, list[dict[str, Any]]]] = field(default_factory=list)
    #: Tables that may lack rows: a line that could not be read, a row that was refused.
    lost: set[str] = field(default_factory=set)
    #: Tables with rows whose label may be wrong: a part of it did not resolve.
    mislabelled: set[str] = field(default_factory=set)
    text_edits: list[TextEdit] = field(default_factory=list)
    renames: dict[tuple[str, Key], Rename] = field(default_factory=dict)
    _previous_state: Dataset | None = None
    _previous_known: bool = False
    _previous_labels: dict[str, dict[str, list[Key]]] = field(default_factory=dict)
    _alternative_labels: dict[str, set[str]] = field(default_factory=dict)
    _label_sources: dict[str, set[str]] | None = None

    def load(self) -> LoadedDataset:
        self.inline_tables = {
            kind.table
            for file in self.spec.files
            for kind in file.rows.fields.values()
            if isinstance(kind, Ref) and kind.inline
        }
        for table in self.spec.tables():
            self.dataset[table] = {}
            self.origins[table] = {}
        for folder, shown in self.folders:
            for file in self.spec.files:
                self._read_file(folder, shown, file)
        self._assign_integer_ids()
        self._settle_conflicts()
        labeler = RowNamer.of_dataset(self.spec, self.dataset)
        self.phase = _REFERENCES
        self._resolve_refs(labeler)
        self._key_by_references(labeler)
        self._resolve_links(labeler)
        self.phase = _WHOLE
        self._check_unique_labels(labeler)
        self._check_foreign_keys()
        self._check_unique_constraints()
        self._check_index_sizes()
        self._check_cycles(labeler)
        if self.ranked:
            raise DatasetError(problem for _, problem in sorted(self.ranked))
        return LoadedDataset(
            self.dataset,
            self.origins,
            self.assigned,
            text_edits=self.text_edits,
            renames=self._renames(labeler),
        )

    # -- reading ---------------------------------------------------------------------

    def _read_file(self, folder: Path, shown_folder: str, file: FileSpec) -> None:
        path = folder / file.path
        shown = f"{shown_folder}/{file.path}"
        self.file_order.setdefault(shown, len(self.file_order))
        if not path.exists():
            return
        # Rows are taken as lines are read (the file's encoding is checked first).
        any_line = any_row = False
        try:
            for number, text in read_lines(path, shown):
                any_line = True
                origin = (shown, number)
                if not text.strip():
                    self._problem(origin, "malformed", "blank line (one row per line)")
                    continue
                any_row = True
                self._read_line(file.rows, text, origin)
        except DatasetError as error:
            for problem in error.problems:
                self._problem((problem.path, problem.line), problem.rule, problem.detail)
            self._lose(file.rows)
            return
        if not any_line:
            self._problem((shown, 1), "malformed", "empty file (delete it to have no rows)")
        if not any_row:
            self._lose(file.rows)  # emptied by mistake, most likely: its rows are lost

    def _read_line(self, rows: RowSpec, text: str, origin: Origin) -> None:
        try:
            value = _DECODER.decode(text)
        except (ValueError, RecursionError) as error:
            self._problem(origin, "malformed", _json_message(error))
            self._lose(rows)
            return
        if not isinstance(value, dict):
            self._problem(origin, "malformed", "a line must hold one JSON object")
            self._lose(rows)
            return
        self._parse_row(rows, value, origin)

    def _lose(self, rows: RowSpec) -> None:
        """Rows of ``rows`` (and those defined inside them) may be missing from the data."""
        if rows.table in self.lost:
            return
        self.lost.add(rows.table)
        for kind in rows.fields.values():
            if isinstance(kind, Owned | Links):
                self.lost.add(kind.table)
            elif isinstance(kind, Ref) and kind.inline:
                inline = self.spec.row_spec(kind.table)
                if inline is not None:
                    self._lose(inline)

    def _parse_row(self, rows: RowSpec, obj: dict[str, Any], origin: Origin) -> Key | None:
        """Add the row that ``obj`` writes (and the rows it defines in place)."""
        if not obj.keys() <= rows.fields.keys():
            for name in obj:
                if name not in rows.fields:
                    known = ", ".join(rows.fields)
                    self._problem(
                        origin,
                        "unknown-column",
                        f"{rows.table} has no field {name!r} (fields: {known})",
                    )
        parsed = _ParsedRow()
        ok = True
        plan = self._plan(rows)
        for name, kind, column, checker in plan.fields:
            if isinstance(kind, Value) and obj.get(name) is not None:
                # The common case, kept short: a present value of a plain column.
                value = obj[name]
                parsed.row[kind.column] = value
                try:
                    checker(value)
                except ValueProblem as problem:
                    self._problem(origin, problem.rule, f"{name}: {problem.detail}")
                    self._mislabel(rows.table, name)
                    ok = False
                continue
            if not self._parse_field(
                rows, name=name, kind=kind, column=column, obj=obj, origin=origin, parsed=parsed
            ):
                self._mislabel(rows.table, name)
                ok = False
        key_columns = plan.key_columns
        assign = ok and len(key_columns) == 1 and key_columns[0] not in parsed.row
        if assign:
            # A new row written without an id gets one; a revision writes it back.
            parsed.row[key_columns[0]] = new_id(self.metadata.tables[rows.table].c[key_columns[0]])
        key = self._key_of(rows, parsed, key_columns)
        if key is None:
            self._lose(rows)
            return None
        if not ok and rows.table in self.inline_tables and key in self.dataset[rows.table]:
            # A copy with a problem of its own: that problem is the one to report.
            return key
        if not self._add_row(rows.table, key, parsed.row, origin):
            self._lose(rows)
            self._forget_copies(origin)
            return None
        if not ok:
            # Keep the row so that rows naming it do not report it missing as well.
            self.broken.add((rows.table, key))
        if assign:
            self.assigned.append((rows.table, key))
        for owned, value in parsed.owned:
            owned_key_column = self._plan_key_column(owned.table)
            added = self._add_row(owned.table, (value,), {owned_key_column: value}, origin)
            if added and value in parsed.assigned_owned:
                self.assigned.append((owned.table, (value,)))
        for name, ref, value, by_id in parsed.refs:
            self.refs.append(
                _PendingRef(rows.table, key, ref.column, ref.table, value, by_id, origin, name)
            )
        for name, links, values in parsed.links:
            self.links.append(_PendingLinks(links, key, values, origin, name))
        return key

    def _key_of(self, rows: RowSpec, parsed: _ParsedRow, key_columns: list[str]) -> Key | None:
        """The key of a parsed row; None when a part of it is missing."""
        row = parsed.row
        if len(key_columns) == 1 and not parsed.ref_columns:
            # The usual key, one column and no reference: once per row of a large load.
            value = row.get(key_columns[0], _ABSENT)
            return None if value is _ABSENT else (value,)
        if any(column not in row for column in key_columns):
            return None
        key = tuple(
            _KeyByReference()
            if row[column] is None and column in parsed.ref_columns
            # A key part written as a reference is known once references are resolved.
            else row[column]
            for column in key_columns
        )
        if any(isinstance(part, _KeyByReference) for part in key):
            self.keyed_by_reference.add(rows.table)
        return key

    def _parse_field(
        self,
        rows: RowSpec,
        *,
        name: str,
        kind: Value | Ref | Owned | Links,
        column: sa.Column[Any] | None,
        obj: dict[str, Any],
        origin: Origin,
        parsed: _ParsedRow,
    ) -> bool:
        """Take one field of ``obj`` into ``parsed``; False when it has a problem."""
        present = name in obj
        value = obj.get(name)
        if isinstance(kind, Links):
            if not present:
                return True
            if not isinstance(value, list) or not all(
                isinstance(item, str) or _is_id_object(item) for item in value
            ):
                self._problem(origin, "wrong-type", f"{name} must be a list of labels")
                return False
            parsed.links.append((name, kind, value))
            return True
        assert column is not None
        key_column = self._key_column(kind.table) if isinstance(kind, Owned) else column
        if not present and _can_assign(key_column, kind):
            if isinstance(kind, Owned):
                value = new_id(key_column)
                parsed.row[kind.column] = value
                parsed.owned.append((kind, value))
                parsed.assigned_owned.append(value)
            return True
        if not present and not column.nullable:
            self._problem(origin, "missing-column", f"{rows.table} needs field {name!r}")
            return False
        if value is None:
            parsed.row[kind.column] = None
            if not column.nullable:
                self._problem(origin, "wrong-type", f"{name} must not be null")
                return False
            return True
        if isinstance(kind, Value):
            parsed.row[kind.column] = value
            try:
                check_value(column, value)
            except ValueProblem as problem:
                self._problem(origin, problem.rule, f"{name}: {problem.detail}")
                return False
            return True
        if isinstance(kind, Owned):
            if not _is_id(value):
                self._problem(origin, "wrong-type", f"{name} must be an id (a string or integer)")
                return False
            parsed.row[kind.column] = value
            parsed.owned.append((kind, value))
            return True
        return self._parse_reference(name, kind, value, origin, parsed)

    def _plan(self, rows: RowSpec) -> _RowPlan:
        plan = self.plans.get(id(rows))
        if plan is None:
            table = self.metadata.tables[rows.table]
            fields = []
            for name, kind in rows.fields.items():
                column = None if isinstance(kind, Links) else table.c[kind.column]
                checker = value_checker(column) if column is not None else _no_check
                fields.append((name, kind, column, checker))
            plan = _RowPlan(fields, [column.name for column in table.primary_key])
            self.plans[id(rows)] = plan
        return plan

    def _plan_key_column(self, table: str) -> str:
        return next(iter(self.metadata.tables[table].primary_key)).name

    def _key_column(self, table: str) -> sa.Column[Any]:
        return next(iter(self.metadata.tables[table].primary_key))

    def _parse_reference(
        self, name: str, kind: Ref, value: Any, origin: Origin, parsed: _ParsedRow
    ) -> bool:
        parsed.row[kind.column] = None  # filled in when the reference is resolved
        parsed.ref_columns.add(kind.column)
        if isinstance(value, str):
            parsed.refs.append((name, kind, value, False))
            return True
        if _is_id_object(value):
            parsed.refs.append((name, kind, value["id"], True))
            return True
        if isinstance(value, dict) and kind.inline:
            target_rows = self.spec.row_spec(kind.table)
            assert target_rows is not None, f"no row spec for {kind.table}"
            target_key = self._parse_row(target_rows, value, origin)
            if target_key is None:
                return False
            parsed.row[kind.column] = target_key[0]
            return True
        self._problem(origin, "wrong-type", f"{name} must be the label of a {kind.table}")
        return False

    def _add_row(self, table: str, key: Key, row: dict[str, Any], origin: Origin) -> bool:
        rows = self.dataset[table]
        existing = rows.get(key)
        if existing is None:
            rows[key] = row
            self.origins[table][key] = origin
            return True
        first = self.origins[table][key]
        inline = table in self.inline_tables
        if existing == row and first != origin and inline:
            # The same text written again where it is used: one row.
            self.repeats[(table, key)] = self.repeats.get((table, key), 0) + 1
            return True
        if existing == row:
            where = "on this line" if first == origin else f"at {_show(first)}"
            self._problem(origin, "duplicate-id", f"{table} {show_key(key)} also {where}")
        elif inline:
            # Settled once every file is read (an edit of one copy, or a conflict).
            self.conflicts.setdefault((table, key), []).append((row, origin))
            return True
        else:
            self._problem(
                origin, "duplicate-id", f"{table} {show_key(key)} already at {_show(first)}"
            )
        return False

    # -- keys not known while reading -------------------------------------------------

    def _assign_integer_ids(self) -> None:
        """Give new rows of integer-keyed tables the next integers above every id in use.

        Only now are all of them known: those of every file, and those of the data
        revisions (``used_ids``), which a new row must not take again even when the row
        that had it was deleted since.
        """
        chosen: dict[Any, Any] = {}
        highest: dict[str, int] = {}
        for table, key in self.assigned:
            placeholder = key[0]
            if not isinstance(placeholder, _NewInteger):
                continue
            if table not in highest:
                taken = [key[0] for key in self.dataset[table]]
                highest[table] = max(
                    (i for i in (*taken, *self.used_ids(table)) if _is_integer(i)), default=0
                )
            highest[table] += 1
            chosen[placeholder] = highest[table]
        self._substitute(chosen, {table for table, key in self.assigned if key[0] in chosen})

    def _key_by_references(self, labeler: RowNamer) -> None:
        """Rows whose primary key holds a reference are keyed by what it refers to."""
        resolved: dict[Any, Any] = {}
        for table in self.keyed_by_reference:
            columns = self.metadata.tables[table].primary_key.columns
            for key, row in self.dataset[table].items():
                for part, column in zip(key, columns, strict=True):
                    if isinstance(part, _KeyByReference) and row[column.name] is not None:
                        resolved[part] = row[column.name]
        if not resolved:
            return
        self._substitute(resolved, self.keyed_by_reference)
        for table in self.keyed_by_reference:
            labeler.forget(table)
            self.indexes.pop(table, None)

    def _substitute(self, values: dict[Any, Any], tables: set[str]) -> None:
        """Put ``values`` in place of the placeholders they stand for, in the keys of
        ``tables`` and wherever a row holds one of those keys."""
        if not values:
            return

        def part(value: Any) -> Any:
            return values.get(value, value) if isinstance(value, _Placeholder) else value

        def new_key(key: Key) -> Key:
            return tuple(part(value) for value in key)

        for name, columns in self._columns_holding_keys(tables).items():
            rows = self.dataset[name]
            origins = self.origins[name]
            rekeyed: dict[Key, dict[str, Any]] = {}
            rekeyed_origins: dict[Key, Origin] = {}
            for key, row in rows.items():
                for column in columns:
                    if isinstance(row.get(column), _Placeholder):
                        row[column] = part(row[column])
                key_now = new_key(key)
                if key_now in rekeyed:
                    first = rekeyed_origins[key_now]
                    self._problem(
                        origins[key],
                        "duplicate-id",
                        f"{name} {show_key(key_now)} also at {_show(first)}",
                    )
                    continue
                rekeyed[key_now] = row
                rekeyed_origins[key_now] = origins[key]
            self.dataset[name] = rekeyed
            self.origins[name] = rekeyed_origins
        self.assigned = [(table, new_key(key)) for table, key in self.assigned]
        self.broken = {(table, new_key(key)) for table, key in self.broken}
        for ref in self.refs:
            ref.key = new_key(ref.key)
        for links in self.links:
            links.own_key = new_key(links.own_key)

    def _columns_holding_keys(self, tables: set[str]) -> dict[str, set[str]]:
        """By table, the columns that may hold a key of ``tables``: those tables' own key
        columns and every column referring to them (by foreign key or by the spec)."""
        holders: dict[str, set[str]] = {
            name: {column.name for column in self.metadata.tables[name].primary_key}
            for name in tables
        }
        for table in self.metadata.tables.values():
            for fk in table.foreign_keys:
                if fk.column.table.name in tables and table.name in self.dataset:
                    holders.setdefault(table.name, set()).add(fk.parent.name)
        for rows in [file.rows for file in self.spec.files] + list(self.spec.embedded):
            for kind in rows.fields.values():
                if isinstance(kind, Ref | Owned) and kind.table in tables:
                    holders.setdefault(rows.table, set()).add(kind.column)
        return holders

    # -- rows written in several places -----------------------------------------------

    def _forget_copies(self, origin: Origin) -> None:
        """A refused row's texts are no copies: a line copied with its id kept (the
        duplicate-id) names the copied texts, edited or not."""
        for copies, others in list(self.conflicts.items()):
            kept = [(row, where) for row, where in others if where != origin]
            if kept:
                self.conflicts[copies] = kept
            else:
                del self.conflicts[copies]

    def _settle_conflicts(self) -> None:
        """Copies of one row that disagree: the one edit since the previous state is taken
        and written into every copy; copies no single edit explains are one problem."""
        for (table, key), others in self.conflicts.items():
            values = [
                Copies(
                    self.dataset[table][key],
                    [self.origins[table][key]],
                    self.repeats.get((table, key), 0),
                )
            ]
            for row, origin in others:
                same = next((copies for copies in values if copies.row == row), None)
                if same is None:
                    values.append(Copies(row, [origin]))
                else:
                    same.origins.append(origin)
            rows = self.spec.row_spec(table)
            assert rows is not None, f"no row spec for {table}"
            fields = {k.column: name for name, k in rows.fields.items() if isinstance(k, Value)}
            previous = self._previous()
            before = None if previous is None else previous.get(table, {}).get(key)
            settled = settle(values, before, list(fields))
            if settled is None:
                origin, detail = conflict(table, key, values, before, fields)
                self._problem(origin, "conflicting-definition", detail)
                self.unsettled.append((table, key, [copies.row for copies in values[1:]]))
                continue
            assert before is not None
            edit = settled.edit
            self.dataset[table][key] = edit.row
            self.origins[table][key] = edit.origins[0]
            self.text_edits.append(
                TextEdit(
                    table,
                    key,
                    edit.origins[0],
                    changed_fields(before, edit.row, fields),
                    places=edit.count + settled.old.count,
                    rewritten=settled.old.count,
                )
            )

    def _previous(self) -> Dataset | None:
        """The previous state, computed the first time it is needed."""
        if not self._previous_known:
            source = self.previous
            self._previous_state = source() if callable(source) else source
            self._previous_known = True
        return self._previous_state

    def _previous_index(self, table: str) -> dict[str, list[Key]]:
        """Label -> keys of ``table`` in the previous state."""
        if table not in self._previous_labels:
            previous = self._previous()
            namer = None if previous is None else RowNamer.of_dataset(self.spec, previous)
            index = {} if namer is None else namer.index(table)
            self._previous_labels[table] = index
        return self._previous_labels[table]

    # -- references --------------------------------------------------------------------

    def _resolve_refs(self, labeler: RowNamer) -> None:
        """Resolve references so that every label is final before it is looked up: first
        those that labels are made of, table by table (a table after the tables its labels
        name; within a table whose labels name a row of the same table, parents first),
        then every other one."""
        in_labels: dict[str, list[_PendingRef]] = {}
        others: list[_PendingRef] = []
        label_fields = {
            rows.table: set(rows.label_fields())
            for rows in [file.rows for file in self.spec.files] + list(self.spec.embedded)
        }
        for ref in self.refs:
            if ref.name in label_fields.get(ref.table, ()):
                in_labels.setdefault(ref.table, []).append(ref)
            else:
                others.append(ref)
        for table in _reference_order(self.spec):
            refs = in_labels.get(table, [])
            self._resolve_each(labeler, [ref for ref in refs if ref.target != table])
            labeler.forget(table)
            parents = [ref for ref in refs if ref.target == table]
            if parents:
                self._resolve_parents_first(labeler, table, parents)
        self._resolve_each(labeler, others)

    def _resolve_each(self, labeler: RowNamer, refs: list[_PendingRef]) -> None:
        for ref in refs:
            target_key = self._find(
                labeler, ref.target, ref.value, by_id=ref.by_id, origin=ref.origin, name=ref.name
            )
            if target_key is None:
                self.broken.add((ref.table, ref.key))
                self._mislabel(ref.table, ref.name)
                continue
            self.dataset[ref.table][ref.key][ref.column] = target_key[0]

    def _resolve_parents_first(
        self, labeler: RowNamer, table: str, refs: list[_PendingRef]
    ) -> None:
        """References to rows of ``table`` that the labels of ``table`` are made of
        (``"{parent}/{code}"``): a row's label is known once the rows it names are resolved,
        so labels become known from the top of the hierarchy down, a level per round."""
        self._resolve_each(labeler, [ref for ref in refs if ref.by_id])
        pending = [ref for ref in refs if not ref.by_id]
        rows = self.dataset[table]
        columns = {ref.column for ref in refs}
        known: dict[str, list[Key]] = {}
        settled: set[Key] = set()
        resolved: list[_PendingRef] = []
        while True:
            waiting = {ref.key for ref in pending}
            fresh = [
                key
                for key, row in rows.items()
                if key not in settled
                and key not in waiting
                and all(row.get(c) is None or (row[c],) in settled for c in columns)
            ]
            labeler.forget(table, fresh)
            for key in fresh:
                label = labeler.natural_label(table, key)
                if label is not None:
                    known.setdefault(label, []).append(key)
            settled.update(fresh)
            still = []
            for ref in pending:
                keys = known.get(ref.value, [])
                if len(keys) == 1:
                    rows[ref.key][ref.column] = keys[0][0]
                    resolved.append(ref)
                else:
                    still.append(ref)
            if not fresh and len(still) == len(pending):
                break
            pending = still
        labeler.forget(table)
        # A label met once while the hierarchy was being walked may be met again further
        # down: every reference must hold in the whole table. What never resolved is
        # reported as missing (or ambiguous) against the whole table too.
        recheck = [
            ref
            for ref in resolved
            if len(self._label_index(labeler, table).get(ref.value, [])) != 1
        ]
        for ref in recheck:
            rows[ref.key][ref.column] = None
        self._resolve_each(labeler, recheck + pending)

    def _resolve_links(self, labeler: RowNamer) -> None:
        for pending in self.links:
            kind = pending.kind
            for item in pending.values:
                by_id = _is_id_object(item)
                value = item["id"] if by_id else item
                other = self._find(
                    labeler,
                    kind.other_table,
                    value,
                    by_id=by_id,
                    origin=pending.origin,
                    name=pending.name,
                )
                if other is None:
                    continue
                row = {kind.own_column: pending.own_key[0], kind.other_column: other[0]}
                join_keys = [c.name for c in self.metadata.tables[kind.table].primary_key]
                self._add_row(kind.table, tuple(row[c] for c in join_keys), row, pending.origin)

    def _find(
        self, labeler: RowNamer, target: str, value: Any, *, by_id: bool, origin: Origin, name: str
    ) -> Key | None:
        if by_id:
            if (value,) in self.dataset[target]:
                return (value,)
            if not self._follows(target, None):
                self._problem(origin, "missing-reference", f"{name}: no {target} with id {value!r}")
            return None
        keys = self._label_index(labeler, target).get(value, [])
        if len(keys) == 1:
            return keys[0]
        if not keys:
            renamed = self._renamed(target, value, origin)
            if renamed is not None:
                return renamed
            if not self._follows(target, value):
                self._problem(
                    origin,
                    "missing-reference",
                    f"{name}: no {target} named {value!r}{self._deleted(target, value)}",
                )
        elif not self._duplicate_reported(labeler, target, keys):
            self._problem(
                origin,
                "ambiguous-reference",
                f"{name}: {len(keys)} rows of {target} are named {value!r}; refer by id",
            )
        return None

    def _renamed(self, table: str, label: str, origin: Origin) -> Key | None:
        """The row of ``table`` that had ``label`` in the previous state, if it is still
        there under another label: the reference at ``origin`` is rewritten to it."""
        keys = self._previous_index(table).get(label, [])
        if len(keys) != 1 or keys[0] not in self.dataset[table]:
            return None
        key = keys[0]
        rename = self.renames.get((table, key))
        if rename is None:
            rename = Rename(table, key, label, label, self.origins[table][key])
            self.renames[(table, key)] = rename
        rename.references.append(origin)
        return key

    def _deleted(self, table: str, label: str) -> str:
        if self._previous_index(table).get(label):
            return " (the data revisions have one: it was deleted)"
        return ""

    def _follows(self, table: str, label: str | None) -> bool:
        """Whether a reference to ``table`` that found no row follows from another problem:
        the row may be on a line that could not be read, or its label made of a part that
        did not resolve (a lost row of another table makes a label wrong only through such
        a part), or of a text whose copies disagree."""
        if table in self.lost:
            return True
        if label is None:
            return False
        if self._sources_of_labels(table) & self.mislabelled:
            return True
        return label in self._alternative_labels_of(table)

    def _sources_of_labels(self, table: str) -> set[str]:
        if self._label_sources is None:
            self._label_sources = label_sources(self.spec)
        return self._label_sources.get(table, {table})

    def _alternative_labels_of(self, table: str) -> set[str]:
        """Labels ``table``'s rows would have with the other values of disagreeing copies."""
        if not self.unsettled:
            return set()
        if table not in self._alternative_labels:
            labels: set[str] = set()
            # The n-th other value of every such row at once: one labeler per n, not per row.
            for n in range(max(len(rows) for _, _, rows in self.unsettled)):
                overlay = dict(self.dataset)
                copied: set[str] = set()
                for owner, key, rows in self.unsettled:
                    if n < len(rows):
                        if owner not in copied:
                            overlay[owner] = dict(overlay[owner])
                            copied.add(owner)
                        overlay[owner][key] = rows[n]
                labels |= RowNamer.of_dataset(self.spec, overlay).index(table).keys()
            self._alternative_labels[table] = labels
        return self._alternative_labels[table]

    def _duplicate_reported(self, labeler: RowNamer, table: str, keys: list[Key]) -> bool:
        """Whether rows ``keys`` share a natural key, reported as ``duplicate-key``: the
        references their label makes ambiguous follow from it."""
        owners = {labeler.owner(table, key) or (table, key) for key in keys}
        tables = {owner_table for owner_table, _ in owners}
        if len(tables) != 1:
            return False
        rows = self.spec.row_spec(next(iter(tables)))
        healthy = [owner for owner in owners if owner not in self.broken]
        return rows is not None and rows.unique_label and len(healthy) >= 2

    def _in_label(self, table: str, name: str) -> bool:
        rows = self.spec.row_spec(table)
        return rows is not None and rows.label is not None and name in label_fields(rows.label)

    def _mislabel(self, table: str, name: str) -> None:
        """Field ``name`` of a row of ``table`` has a problem: if the label is made of it,
        references by label to rows of ``table`` may miss because of it."""
        if self._in_label(table, name):
            self.mislabelled.add(table)

    def _renames(self, labeler: RowNamer) -> list[Rename]:
        if not self.renames:
            return []
        previous = self._previous()
        assert previous is not None, "a rename is found in the previous state only"
        found = fold_renames(
            self.renames,
            spec=self.spec,
            dataset=self.dataset,
            origins=self.origins,
            labeler=labeler,
            old=RowNamer.of_dataset(self.spec, previous),
        )
        return sorted(found, key=lambda rename: self._rank(rename.origin))

    def _label_index(self, labeler: RowNamer, table: str) -> dict[str, list[Key]]:
        if table not in self.indexes:
            self.indexes[table] = labeler.index(table)
        return self.indexes[table]

    # -- whole-dataset rules -----------------------------------------------------------

    def _check_unique_labels(self, labeler: RowNamer) -> None:
        for file in self.spec.files:
            if not file.rows.unique_label:
                continue
            table = file.rows.table
            for label, all_keys in self._label_index(labeler, table).items():
                # A row with an unresolved reference has no trustworthy label.
                keys = [key for key in all_keys if (table, key) not in self.broken]
                if len(keys) < 2:
                    continue
                first = self.origins[table][keys[0]]
                for key in keys[1:]:
                    self._problem(
                        self.origins[table][key],
                        "duplicate-key",
                        f"{table} {label!r} already at {_show(first)}",
                    )

    def _check_unique_constraints(self) -> None:
        """Rows the database would refuse for a unique constraint are refused here first."""
        for table_name, rows in self.dataset.items():
            table = self.metadata.tables[table_name]
            groups = [
                [c.name for c in constraint.columns]
                for constraint in table.constraints
                if isinstance(constraint, sa.UniqueConstraint)
            ] + [[c.name for c in index.columns] for index in table.indexes if index.unique]
            for columns in groups:
                seen: dict[tuple[Any, ...], Key] = {}
                for key, row in rows.items():
                    values = tuple(row.get(column) for column in columns)
                    if any(value is None for value in values) or (table_name, key) in self.broken:
                        continue
                    first = seen.setdefault(values, key)
                    if first != key:
                        shown = ", ".join(columns)
                        self._problem(
                            self.origins[table_name][key],
                            "duplicate-key",
                            f"{table_name} ({shown}) = {values!r} already at "
                            f"{_show(self.origins[table_name][first])}",
                        )

    def _check_index_sizes(self) -> None:
        """Rows an index of some database could not hold are refused before they reach it."""
        for found in oversized_rows(self.metadata, self.dataset, self._is_broken):
            origin = self.origins[found.table][found.key]
            self._problem(origin, "too-large-to-index", found.detail())

    def _is_broken(self, table: str, key: Key) -> bool:
        return (table, key) in self.broken

    def _check_cycles(self, labeler: RowNamer) -> None:
        """Rows that refer to rows of their own table (a hierarchy: a parent column, or a
        join table linking rows of one table to each other) form no cycle. Each cycle is
        one problem, at the line that closes it (the last one read), naming its rows."""
        for table_name, rows in self.dataset.items():
            if not rows:
                continue
            for where, target, edges in self._hierarchies(table_name, rows):
                for cycle in _cycles([(child, parent) for child, parent, _ in edges]):
                    closing = max(cycle)
                    start = cycle.index(closing)
                    path = [edges[i] for i in cycle[start:] + cycle[:start]]
                    names = " -> ".join(
                        repr(labeler.natural_label(target, (value,)) or value)
                        for value in [path[0][0]] + [parent for _, parent, _ in path]
                    )
                    detail = f"{where}: {target} {names}"
                    self._problem(edges[closing][2], "reference-cycle", detail)

    def _hierarchies(
        self, name: str, rows: dict[Key, dict[str, Any]]
    ) -> Iterator[tuple[str, str, list[tuple[Any, Any, Origin]]]]:
        """(what links the rows, the table of the rows, child -> parent edges in the order
        they were read) of every hierarchy ``table`` holds."""
        table = self.metadata.tables[name]
        origins = self.origins[name]
        links = [c for c in table.columns if c.primary_key and c.foreign_keys]
        targets = {fk.column.table.key for column in links for fk in column.foreign_keys}
        if len(links) == 2 and len(targets) == 1:
            child, parent = (column.name for column in links)
            edges = [(row[child], row[parent], origins[key]) for key, row in rows.items()]
            yield name, targets.pop(), edges
        key_columns = [column.name for column in table.primary_key]
        rows_spec = self.spec.row_spec(name)
        for constraint in table.foreign_key_constraints:
            element = constraint.elements[0]
            if (
                len(constraint.elements) != 1
                or element.column.table is not table
                or [element.column.name] != key_columns
            ):
                continue
            column = element.parent.name
            field_name = rows_spec.field_for_column(column) if rows_spec is not None else None
            edges = [
                (key[0], row[column], origins[key])
                for key, row in rows.items()
                if row.get(column) is not None and (name, key) not in self.broken
            ]
            yield f"{name}.{field_name or column}", name, edges

    def _check_foreign_keys(self) -> None:
        """References written as plain values must point at rows of the data too."""
        for table_name, rows in self.dataset.items():
            table = self.metadata.tables[table_name]
            for constraint in table.foreign_key_constraints:
                if len(constraint.elements) != 1:
                    continue
                element = constraint.elements[0]
                target = element.column.table.name
                if target not in self.dataset:
                    continue
                column = element.parent.name
                for key, row in rows.items():
                    value = row.get(column)
                    if value is None or (table_name, key) in self.broken:
                        continue
                    if (value,) not in self.dataset[target] and target not in self.lost:
                        self._problem(
                            self.origins[table_name][key],
                            "missing-reference",
                            f"{table_name}.{column}: no {target} with id {value!r}",
                        )

    def _problem(self, origin: Origin, rule: str, detail: str) -> None:
        rank = (self.phase, *self._rank(origin), len(self.ranked))
        self.ranked.append((rank, Problem(origin[0], origin[1], rule, detail)))

    def _rank(self, origin: Origin) -> tuple[int, int]:
        """Where ``origin`` comes in reading order: its file's place, then its line."""
        return self.file_order.get(origin[0], len(self.file_order)), origin[1]


class _Placeholder:
    """A key part not known while the files are read; each stands for one value."""

    __slots__ = ()


class _NewInteger(_Placeholder):
    """The id of a new row of an integer-keyed table, chosen once every id is known."""

    __slots__ = ()


class _KeyByReference(_Placeholder):
    """A primary key part written as a reference, known once the reference is resolved."""

    __slots__ = ()


def new_id(column: sa.Column[Any]) -> Any:
    """A new id for ``column``: a UUID for text; for integers, the next free integer,
    chosen once every row is read."""
    if isinstance(column.type, sa.String):
        return str(uuid.uuid4())
    return _NewInteger()


def _can_assign(key_column: sa.Column[Any], kind: Value | Ref | Owned) -> bool:
    """Whether a missing id is made up: the primary key of a row (or the id of its owned
    row) when it is the table's only key column and of text, or an integer the database
    would generate (autoincrement, identity, serial). Parts of a composite key never are."""
    if not isinstance(kind, Owned | Value) or not key_column.primary_key:
        return False
    table = key_column.table
    if len(table.primary_key.columns) != 1:
        return False
    return isinstance(key_column.type, sa.String) or table.autoincrement_column is key_column


def _reference_order(spec: SeedSpec) -> list[str]:
    """Tables in an order where every table comes after the tables its labels are made of
    (a table whose labels name rows of its own table orders those rows itself)."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for table in spec.tables():
        sorter.add(table)
    for rows in [file.rows for file in spec.files] + list(spec.embedded):
        named = rows.label_fields()
        for name, kind in rows.fields.items():
            if isinstance(kind, Ref) and name in named and kind.table != rows.table:
                sorter.add(rows.table, kind.table)
            elif isinstance(kind, Owned):
                sorter.add(kind.table, rows.table)  # an owned row is named after its owner
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise ConfigError(
            f"the spec's labels are made of each other in a cycle ({cycle}): no row of "
            "them could ever be named"
        ) from None


def _cycles(edges: list[tuple[Any, Any]]) -> list[list[int]]:
    """The cycles of a graph of child -> parent ``edges``, each as the positions of its
    edges in ``edges``, in path order. Every cycle a depth-first walk closes is found once
    (every cycle of a graph where each node has at most one parent)."""
    out: dict[Any, list[int]] = {}
    for position, (child, _parent) in enumerate(edges):
        out.setdefault(child, []).append(position)
    done: set[Any] = set()
    cycles: list[list[int]] = []
    for start, first in out.items():
        if start in done:
            continue
        # The walk: the nodes on the current path, the edge that led to each, and the
        # edges each still has to follow.
        on_path: dict[Any, int] = {start: 0}
        path_edges: list[int] = []
        stack: list[tuple[Any, Iterator[int]]] = [(start, iter(first))]
        while stack:
            node, todo = stack[-1]
            step = next(todo, None)
            if step is None:
                stack.pop()
                del on_path[node]
                done.add(node)
                if path_edges:
                    path_edges.pop()
                continue
            parent = edges[step][1]
            if parent in on_path:
                cycles.append([*path_edges[on_path[parent] :], step])
            elif parent not in done:
                on_path[parent] = len(path_edges) + 1
                path_edges.append(step)
                stack.append((parent, iter(out.get(parent, []))))
    return cycles


def load_seeddata(
    folder: Path,
    spec: SeedSpec,
    metadata: sa.MetaData,
    *,
    base: Sequence[Path] = (),
    used_ids: Callable[[str], Iterable[Any]] | None = None,
    previous: Previous = None,
) -> LoadedDataset:
    """Read and validate every file of ``folder``; raise ``DatasetError`` listing all problems.

    Rows of the ``base`` folders are read first and may be referred to; ``own_rows()`` of
    the result leaves them out. New rows of integer-keyed tables get integers above every
    id of the seed data and every id ``used_ids(table)`` gives (asked only for tables that
    have such rows). ``previous`` is the state the data revisions produce (or a function
    returning it, called only when a text's copies disagree or a reference finds no row):
    with it, a text edited in one of its places and a row referred to by its old label are
    taken as edits (``text_edits``, ``renames``) instead of problems.
    """
    folders = [(path, _shown_folder(path)) for path in (*base, folder)]
    loader = _Loader(spec, metadata, folders, previous)
    if used_ids is not None:
        loader.used_ids = used_ids
    with collector_paused():
        loaded = loader.load()
    if base:
        own_prefix = folders[-1][1] + "/"
        loaded.base_rows = {
            table: {key for key, origin in origins.items() if not origin[0].startswith(own_prefix)}
            for table, origins in loaded.origins.items()
        }
    return loaded


def _shown_folder(folder: Path) -> str:
    if not folder.is_absolute():
        return str(folder)
    try:
        return str(folder.relative_to(Path.cwd()))
    except ValueError:
        return str(folder)


class _DuplicateKeyError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        for name, _value in pairs:
            if name in seen:
                raise _DuplicateKeyError(f"key {name!r} appears twice in one object")
            seen.add(name)
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


#: Strict JSON: no duplicate keys in an object, no NaN or Infinity.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates, parse_constant=_no_constant
)


def _json_message(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON: {error.msg} (column {error.colno})"
    if isinstance(error, RecursionError):
        return "invalid JSON: nested too deeply"
    return str(error)


def _is_id_object(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["id"] and _is_id(value["id"])


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or _is_integer(value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(origin: Origin) -> str:
    return f"{origin[0]}:{origin[1]}"
