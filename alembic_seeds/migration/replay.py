"""Offline replay: the state that the data revisions produce, with no database.

Schema revisions and data revisions are one history, and replay walks it in the order
``alembic upgrade`` runs it. A data revision's change set is applied to the state; a schema
revision changes the state's tables as its operations say (recorded without a database, see
``schema_record``): a column added gives every row its server default (else null), a column
dropped takes its values with it, a renamed column or table keeps them under the new name.

Replay also checks what a database would refuse, or what would make a downgrade inexact,
naming the revisions involved: a data revision that writes a column the table does not have
at its point of the history; a schema revision that drops, renames or makes NOT NULL a
column a data revision writes, without depending on that revision (``alembic upgrade`` may
then run the two in either order); a column made NOT NULL while seeded rows hold none; and
(``Loss``) a column or table dropped while it holds seeded values, which a downgrade cannot
bring back.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from alembic_seeds import __version__
from alembic_seeds.apply.shapes import ColumnShape, TableShape, named_columns, shape_of
from alembic_seeds.changes.changeset import (
    Dataset,
    Key,
    PrimaryKeys,
    apply_to_dataset,
    checksum_of_lines,
    row_key,
)
from alembic_seeds.errors import ReplayError, UnknownRevision
from alembic_seeds.memory import collector_paused
from alembic_seeds.migration import schema_record as ops
from alembic_seeds.migration.replay_cache import Cached, Columns, ReplayCache, Step, cache_folder
from alembic_seeds.migration.revision import DataRevision

#: A data revision: its Alembic script and the ``data`` object of its module.
DataScript = tuple[Script, DataRevision]


def data_of(script: Script) -> DataRevision | None:
    """The ``data`` object of a data revision's module; None for a schema revision."""
    data = getattr(script.module, "data", None)
    return data if isinstance(data, DataRevision) else None


def data_revisions(scripts: ScriptDirectory, branch: str) -> list[tuple[Script, DataRevision]]:
    """The data revisions of ``branch``, oldest first (empty when the branch has none)."""
    try:
        walked = list(scripts.walk_revisions("base", f"{branch}@head"))
    except CommandError:
        return []
    found = []
    for script in reversed(walked):
        data = data_of(script)
        if data is not None and branch in _labels(scripts, script):
            found.append((script, data))
    return found


def _labels(scripts: ScriptDirectory, script: Script) -> set[str]:
    """Branch labels that apply to ``script``: its own and those of its ancestors."""
    labels: set[str] = set()
    current: Script | None = script
    while current is not None:
        labels |= set(current.branch_labels)
        down = current.down_revision
        if down is None or isinstance(down, tuple | list):
            break
        current = scripts.get_revision(down)
    return labels


def history_under(scripts: ScriptDirectory, heads: Sequence[str]) -> list[Script]:
    """Every revision that ``heads`` are or build on, schema and data alike, oldest first,
    in the order ``alembic upgrade`` runs them. Unknown heads raise Alembic's
    ``CommandError`` or ``RevisionError``."""
    if not heads:
        return []
    # Alembic refuses heads of which one builds on another (a schema head that a data
    # revision depends on, say): keep those that no other head builds on.
    below = {head: {s.revision for s in scripts.iterate_revisions(head, "base")} for head in heads}
    independent = tuple(
        head for head in heads if not any(head != other and head in below[other] for other in heads)
    )
    # Alembic lists them newest first.
    return list(reversed(list(scripts.iterate_revisions(independent, "base"))))


def data_revisions_under(scripts: ScriptDirectory, heads: Sequence[str]) -> list[DataScript]:
    """The data revisions that ``heads`` are or build on, of every branch, oldest first.

    "Build on" as Alembic upgrades: down revisions and ``depends_on`` alike, so this is what
    a database at ``heads`` has applied.
    """
    found: list[DataScript] = []
    for script in history_under(scripts, heads):
        data = data_of(script)
        if data is not None:
            found.append((script, data))
    return found


def schema_heads(scripts: ScriptDirectory) -> list[str]:
    """The heads that are schema revisions (not data revisions), in Alembic's order."""
    heads = []
    for head in scripts.get_heads():
        script = scripts.get_revision(head)
        if script is not None and data_of(script) is None:
            heads.append(head)
    return heads


@dataclass(frozen=True)
class Loss:
    """Seeded values that a schema revision drops: a downgrade past it brings the column
    (or table) back empty, so the data revisions before it would then meet it without them."""

    revision: str
    table: str
    column: str | None
    rows: int

    def __str__(self) -> str:
        what = f"column {self.table}.{self.column}" if self.column else f"table {self.table}"
        return (
            f"schema revision {self.revision} drops the {what} while {self.rows} seeded "
            f"row(s) hold values there: a downgrade past it cannot bring them back, so the "
            "data revisions before it would not downgrade exactly. Clear it first: remove "
            "it from seeddata/ while the schema still has it, `seeds revision "
            '--autogenerate -m "..."` (a revision that empties it), and let the schema '
            "revision that drops it depend_on that revision"
        )


@dataclass
class Replayed:
    """What a history produces: the state, and the seeded values schema revisions drop."""

    state: Dataset
    losses: list[Loss] = field(default_factory=list)
    #: The tables the schema revisions of the history have made by its end.
    tables: frozenset[str] = frozenset()


def replay(
    scripts: ScriptDirectory,
    branch: str,
    primary_keys: PrimaryKeys,
    metadata: sa.MetaData | None = None,
) -> Dataset:
    """The state of ``branch``'s data revisions, with every schema revision applied: what a
    new data revision of the branch (which depends on the schema heads) builds on."""
    return replay_branch(scripts, branch, primary_keys, metadata).state


def replay_branch(
    scripts: ScriptDirectory,
    branch: str,
    primary_keys: PrimaryKeys,
    metadata: sa.MetaData | None = None,
) -> Replayed:
    """``replay``, with the losses. With ``metadata`` (the models), the state must end in
    the models' tables and columns."""
    revisions = data_revisions(scripts, branch)
    own = {script.revision for script, _data in revisions}
    heads = [script.revision for script, _data in revisions[-1:]] + schema_heads(scripts)
    history = _walk(scripts, history_under(scripts, heads), primary_keys, own, branch)
    if metadata is not None:
        history.project(metadata)
    return history.result()


def replay_under(
    scripts: ScriptDirectory, heads: Sequence[str], primary_keys: PrimaryKeys
) -> Replayed:
    """The state that a database at ``heads`` holds: every revision they are or build on,
    the data revisions of every branch."""
    return _walk(scripts, history_under(scripts, heads), primary_keys).result()


def shapes_at(scripts: ScriptDirectory, revision: str, dialect: str) -> dict[str, TableShape]:
    """The tables as the schema revisions below ``revision`` made them (recorded with
    ``dialect``): what offline SQL of that revision writes into."""
    history = _History(scripts, {}, rows_of=frozenset(), dialect=dialect)
    for script in history_under(scripts, [revision]):
        if script.revision != revision:
            history.step(script)
    return dict(history.shapes)


def _walk(
    scripts: ScriptDirectory,
    steps: Sequence[Script],
    primary_keys: PrimaryKeys,
    rows_of: Collection[str] | None = None,
    branch: str | None = None,
) -> _History:
    """Replay ``steps`` (a history, oldest first), starting from the replay cache where it
    holds the state after the first of them (see ``replay_cache``), and leave the state
    after all of them in the cache. ``rows_of``: as ``_History`` takes it, the data
    revisions of ``branch``."""
    with collector_paused():
        return _walk_from_cache(scripts, steps, primary_keys, rows_of, branch)


def _walk_from_cache(
    scripts: ScriptDirectory,
    steps: Sequence[Script],
    primary_keys: PrimaryKeys,
    rows_of: Collection[str] | None,
    branch: str | None,
) -> _History:
    history = _History(scripts, primary_keys, rows_of=rows_of)
    identity = [history.identity(script) for script in steps]
    # Walks that take the rows of every data revision share one cache, whatever asks.
    taken_by = None if all(taken for _r, _c, taken in identity) else branch
    keys = sorted((table, list(columns)) for table, columns in primary_keys.items())
    cache = ReplayCache(
        cache_folder(Path(scripts.dir)), [__version__, taken_by, keys], primary_keys
    )
    cached = cache.load(identity)
    done = 0
    if cached is not None:
        done = len(cached.steps)
        history.resume(steps[:done], cached)
    for script in steps[done:]:
        history.step(script)
    if steps and (cached is None or done < len(steps)) and not cache.goes_on_from(identity):
        cache.save(history.cached(identity))
    return history


def _apply(state: Dataset, script: Script, data: DataRevision, primary_keys: PrimaryKeys) -> None:
    """Replay one revision on ``state``; a change that does not fit names the revision."""
    try:
        apply_to_dataset(state, data.change_set(), primary_keys)
    except ReplayError as error:
        raise ReplayError(f"data revision {script.revision}: {error}") from None


@dataclass(frozen=True)
class States:
    """One data revision, and the states just before and just after it."""

    script: Script
    data: DataRevision
    before: Dataset
    after: Dataset


def states_around(scripts: ScriptDirectory, primary_keys: PrimaryKeys, revision: str) -> States:
    """Replay the history that ``revision`` (a full id) builds on, then itself."""
    steps = history_under(scripts, [revision])
    data = data_of(steps[-1]) if steps and steps[-1].revision == revision else None
    if data is None:
        raise UnknownRevision(f"{revision} is not a data revision")
    history = _walk(scripts, steps[:-1], primary_keys)
    with collector_paused():
        # Replay replaces rows, it never changes one in place: copying the tables is enough.
        before = {table: dict(rows) for table, rows in history.state.items()}
        history.step(steps[-1])
    return States(steps[-1], data, before, history.state)


def replay_until(scripts: ScriptDirectory, primary_keys: PrimaryKeys, revision: str) -> Dataset:
    """The state after the data revision ``revision`` (itself and all it builds on)."""
    return states_around(scripts, primary_keys, revision).after


class _History:
    """The state and the tables while a history is replayed, one revision at a time.

    ``rows_of``: the data revisions whose rows the state takes (None: every one); the others
    are checked all the same. Tables that no schema revision of the history creates (a
    schema older than its revisions) are taken as the models have them.
    """

    def __init__(
        self,
        scripts: ScriptDirectory,
        primary_keys: PrimaryKeys,
        *,
        rows_of: Collection[str] | None = None,
        dialect: str = ops.RECORDING_DIALECT,
    ) -> None:
        self.scripts = scripts
        self.primary_keys = primary_keys
        self.rows_of = rows_of
        self.dialect = dialect
        self.state: Dataset = {}
        self.shapes: dict[str, TableShape] = {}
        self.losses: list[Loss] = []
        #: (table, column) -> the data revisions that wrote it, oldest first.
        self.writers: dict[tuple[str, str], list[str]] = {}
        #: Why a table or column is not there any more: "schema revision X drops it".
        self.gone: dict[tuple[str, str | None], str] = {}
        #: Statements given as text that may have changed a table: (revision, SQL).
        self.unfollowed: dict[str, list[tuple[str, str]]] = {}
        self._below: dict[str, frozenset[str]] = {}
        #: Per data revision walked: the columns of each table it names, and whether it
        #: inserts rows there (what its checks need, kept in the replay cache).
        self.columns: Columns = {}
        #: While the cached start of a history is walked again: check, take no rows.
        self._resuming = False

    def result(self) -> Replayed:
        return Replayed(self.state, self.losses, frozenset(self.shapes))

    def identity(self, script: Script) -> Step:
        """``script`` as the replay cache knows it: id, checksum of its content (a data
        revision's change set, as the applied-revision log records it; a schema
        revision's file), and whether its rows are taken."""
        data = data_of(script)
        if data is None:
            lines = Path(script.path).read_bytes().splitlines()
            return script.revision, checksum_of_lines(lines), True
        taken = self.rows_of is None or script.revision in self.rows_of
        return script.revision, data.checksum(), taken

    def resume(self, steps: Sequence[Script], cached: Cached) -> None:
        """Walk ``steps``, the start of a history the cache holds the state after: what
        their schema revisions make of the tables and their checks, with no rows (their
        row checks passed when the cache was written); then take the cached state."""
        self.columns.update(cached.columns)
        self._resuming = True
        try:
            for script in steps:
                self.step(script)
        finally:
            self._resuming = False
        self.state = cached.state
        self.losses = [Loss(*loss) for loss in cached.losses]
        self.unfollowed = {table: list(found) for table, found in cached.unfollowed.items()}

    def cached(self, steps: list[Step]) -> Cached:
        """What the cache keeps of this walk, the walk of ``steps``."""
        walked = {revision for revision, _checksum, _taken in steps}
        return Cached(
            steps,
            self.state,
            [(loss.revision, loss.table, loss.column, loss.rows) for loss in self.losses],
            self.unfollowed,
            {revision: found for revision, found in self.columns.items() if revision in walked},
        )

    def step(self, script: Script) -> None:
        data = data_of(script)
        if data is None:
            for operation in ops.record_upgrade(script, self.dialect):
                self._schema(script, operation)
        else:
            self._data(script, data)

    # -- data revisions ----------------------------------------------------------------

    def _data(self, script: Script, data: DataRevision) -> None:
        tables = self.columns.get(script.revision) if self._resuming else None
        if tables is None:
            tables = {
                table: (named_columns(changes), bool(changes.inserts))
                for table, changes in data.change_set().tables.items()
                if changes
            }
            self.columns[script.revision] = tables
        keys: dict[str, tuple[str, ...]] = {}
        for table, (named, inserts) in tables.items():
            shape = self.shapes.get(table)
            if shape is None:
                why = self.gone.get((table, None))
                if why is not None:
                    raise ReplayError(self._misplaced(script, f"table {table}", why))
            else:
                self._check_columns(script, shape, named, inserts)
            for column in named:
                self.writers.setdefault((table, column), []).append(script.revision)
            keys[table] = shape.primary_key if shape else self._key_of(script, table)
        if self._resuming or (self.rows_of is not None and script.revision not in self.rows_of):
            return
        _apply(self.state, script, data, keys)

    def _key_of(self, script: Script, table: str) -> tuple[str, ...]:
        key = self.primary_keys.get(table)
        if key is None:
            raise ReplayError(
                f"data revision {script.revision} writes table {table}, which neither the "
                "models nor the schema revisions before it have"
            )
        return key

    def _check_columns(
        self, script: Script, shape: TableShape, named: list[str], inserts: bool
    ) -> None:
        for column in named:
            if shape.column(column) is None:
                why = self.gone.get((shape.name, column), "no schema revision before it adds it")
                statements = self.unfollowed.get(shape.name, [])
                if statements:
                    why += "; replay cannot follow SQL given as text: " + "; ".join(
                        f"{revision}: {sql}" for revision, sql in statements
                    )
                raise ReplayError(self._misplaced(script, f"column {shape.name}.{column}", why))
        if inserts:
            required = [
                c.name
                for c in shape.columns
                if not c.nullable and not c.has_default and c.name not in named
            ]
            if required:
                raise ReplayError(
                    f"data revision {script.revision} inserts rows into {shape.name} without "
                    f"{', '.join(required)}, which the table requires (NOT NULL, no default) "
                    "at that point of the history: it runs after the schema revision that "
                    "made it so, which must depend_on it instead"
                )

    @staticmethod
    def _misplaced(script: Script, what: str, why: str) -> str:
        return (
            f"data revision {script.revision} writes the {what}, which is not there at its "
            f"point of the history ({why}): a data revision depends_on the schema revisions "
            "it was written for, and a schema revision that drops or renames what data "
            "revisions wrote depends_on them"
        )

    # -- schema revisions --------------------------------------------------------------

    def _schema(self, script: Script, operation: ops.SchemaOp) -> None:
        match operation:
            case ops.CreateTable(table=table):
                self.shapes[table.name] = shape_of(table)
                self.gone.pop((table.name, None), None)
            case ops.DropTable(table=name):
                self._drop_table(script, name)
            case ops.RenameTable(table=name, new_name=new_name):
                self._rename_table(script, name, new_name)
            case ops.AddColumn(table=name, column=column):
                self._add_column(script, name, column)
            case ops.DropColumn(table=name, column=column):
                self._drop_column(script, name, column)
            case ops.AlterColumn():
                self._alter_column(script, operation)
            case ops.OpaqueSql():
                for name in {*self.shapes, *self.state}:
                    if operation.names(name):
                        self.unfollowed.setdefault(name, []).append(
                            (script.revision, operation.sql)
                        )

    def _ordered_after(self, script: Script, table: str, columns: Iterable[str], what: str) -> None:
        """Every data revision that wrote ``columns`` of ``table`` must come before
        ``script``, whatever order Alembic picks: ``script`` must build on it."""
        below = self._ancestors(script.revision)
        for column in columns:
            for writer in self.writers.get((table, column), ()):
                if writer not in below:
                    raise ReplayError(
                        f"schema revision {script.revision} {what} {table}.{column}, which "
                        f"data revision {writer} writes, but does not depend on it: "
                        f"`alembic upgrade` may run it before {writer} (which then fails), "
                        f"and `alembic upgrade seeds@head` may run {writer} after it; add "
                        f"{writer!r} to the depends_on of {script.revision}"
                    )

    def _ancestors(self, revision: str) -> frozenset[str]:
        """``revision`` and every revision it builds on (down revisions and depends_on)."""
        found = self._below.get(revision)
        if found is None:
            found = frozenset(s.revision for s in self.scripts.iterate_revisions(revision, "base"))
            self._below[revision] = found
        return found

    def _drop_table(self, script: Script, name: str) -> None:
        shape = self.shapes.pop(name, None)
        self._ordered_after(script, name, shape.names if shape else (), "drops")
        rows = self.state.pop(name, {})
        if rows:
            self.losses.append(Loss(script.revision, name, None, len(rows)))
        self.gone[(name, None)] = f"schema revision {script.revision} drops it"

    def _rename_table(self, script: Script, name: str, new_name: str) -> None:
        shape = self.shapes.pop(name, None)
        self._ordered_after(script, name, shape.names if shape else (), "renames the table of")
        if shape is not None:
            self.shapes[new_name] = TableShape(
                new_name, shape.columns, shape.primary_key, shape.table
            )
        if name in self.state:
            self.state[new_name] = self.state.pop(name)
        for table, column in list(self.writers):
            if table == name:
                self.writers[(new_name, column)] = self.writers.pop((table, column))
        self.gone[(name, None)] = f"schema revision {script.revision} renames it to {new_name}"
        self.gone.pop((new_name, None), None)

    def _add_column(self, script: Script, name: str, column: sa.Column[Any]) -> None:
        shape = self.shapes.get(name)
        added = ColumnShape(
            column.name, column.type, bool(column.nullable), column.server_default is not None
        )
        if shape is not None:
            kept = tuple(c for c in shape.columns if c.name != column.name)
            self.shapes[name] = TableShape(name, (*kept, added), shape.primary_key, shape.table)
        self.gone.pop((name, column.name), None)
        rows = self.state.get(name)
        if not rows:
            return
        value = _added_value(column)
        if value is _UNKNOWN:
            raise ReplayError(
                f"schema revision {script.revision} adds {name}.{column.name} with a server "
                f"default that replay cannot evaluate ({_default_text(column)}), while "
                f"{len(rows)} seeded row(s) are there: give it a literal default, or add it "
                "nullable and fill it with a data revision"
            )
        if value is None and not column.nullable:
            raise ReplayError(
                f"schema revision {script.revision} adds {name}.{column.name} NOT NULL "
                f"without a default, while {len(rows)} seeded row(s) are there (the database "
                "refuses it): add it nullable, fill it with a data revision that depends on "
                "it, then make it NOT NULL in a schema revision that depends on that one"
            )
        for key, row in rows.items():
            if column.name not in row:
                rows[key] = {**row, column.name: value}

    def _drop_column(self, script: Script, name: str, column: str) -> None:
        self._ordered_after(script, name, [column], "drops")
        shape = self.shapes.get(name)
        if shape is not None:
            self.shapes[name] = _without(shape, column)
        rows = self.state.get(name, {})
        held = sum(1 for row in rows.values() if row.get(column) is not None)
        if held:
            self.losses.append(Loss(script.revision, name, column, held))
        for key, row in rows.items():
            if column in row:
                rows[key] = {c: v for c, v in row.items() if c != column}
        self.gone[(name, column)] = f"schema revision {script.revision} drops it"

    def _alter_column(self, script: Script, operation: ops.AlterColumn) -> None:
        name, column = operation.table, operation.column
        shape = self.shapes.get(name)
        rows = self.state.get(name, {})
        if operation.nullable is False:
            self._ordered_after(script, name, [column], "makes NOT NULL")
            empty = [key for key, row in rows.items() if row.get(column) is None]
            if empty:
                shown = ", ".join(_shown_key(key) for key in empty[:3])
                more = f" and {len(empty) - 3} more" if len(empty) > 3 else ""
                raise ReplayError(
                    f"schema revision {script.revision} makes {name}.{column} NOT NULL, but "
                    f"{len(empty)} seeded row(s) hold no value there at that point ({shown}"
                    f"{more}): a data revision that fills them must come first, and the "
                    "schema revision must depend_on it"
                )
        if shape is not None:
            self.shapes[name] = _altered(shape, operation)
        new_name = operation.new_name
        if new_name is None or new_name == column:
            return
        self._ordered_after(script, name, [column], "renames")
        for key, row in rows.items():
            if column in row:
                rows[key] = {(new_name if c == column else c): v for c, v in row.items()}
        if (name, column) in self.writers:
            self.writers.setdefault((name, new_name), [])[:0] = self.writers.pop((name, column))
        self.gone[(name, column)] = f"schema revision {script.revision} renames it to {new_name}"
        self.gone.pop((name, new_name), None)

    # -- the end -----------------------------------------------------------------------

    def project(self, metadata: sa.MetaData) -> None:
        """The state must end in the models' tables and columns: a column the models lack
        was dropped or renamed in a way replay could not follow."""
        for table, rows in self.state.items():
            model = metadata.tables.get(table)
            columns = set(model.columns.keys()) if model is not None else set()
            extra = sorted({c for row in rows.values() for c in row} - columns)
            if not extra:
                continue
            what = (
                f"columns {', '.join(extra)} of {table}" if model is not None else f"table {table}"
            )
            statements = self.unfollowed.get(table, [])
            hint = (
                "; SQL given as text that replay cannot follow: "
                + "; ".join(f"{revision}: {sql}" for revision, sql in statements)
                if statements
                else ""
            )
            raise ReplayError(
                f"the data revisions leave {what}, which the models do not have: a schema "
                "revision drops or renames them in a way replay cannot follow, or the models "
                f"and the schema revisions disagree (`alembic check` tells){hint}; write such "
                "changes with op.drop_column, op.alter_column(new_column_name=...), "
                "op.rename_table or op.drop_table"
            )


def _without(shape: TableShape, column: str) -> TableShape:
    return TableShape(
        shape.name,
        tuple(c for c in shape.columns if c.name != column),
        tuple(c for c in shape.primary_key if c != column),
        shape.table,
    )


def _altered(shape: TableShape, operation: ops.AlterColumn) -> TableShape:
    columns = []
    for column in shape.columns:
        if column.name != operation.column:
            columns.append(column)
            continue
        columns.append(
            ColumnShape(
                operation.new_name or column.name,
                operation.type if operation.type is not None else column.type,
                column.nullable if operation.nullable is None else operation.nullable,
                column.has_default,
            )
        )
    rename = {operation.column: operation.new_name} if operation.new_name else {}
    key = tuple(rename.get(c, c) for c in shape.primary_key)
    return TableShape(shape.name, tuple(columns), key, shape.table)


def _shown_key(key: Key) -> str:
    return ", ".join(repr(part) for part in key)


# -- server defaults -------------------------------------------------------------------

#: A server default replay cannot tell the value of (a function, an expression).
_UNKNOWN: Any = object()

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _default_text(column: sa.Column[Any]) -> str:
    default = column.server_default
    argument = getattr(default, "arg", default)
    return str(getattr(argument, "text", argument))


def _added_value(column: sa.Column[Any]) -> Any:
    """The value existing rows get when ``column`` is added: its server default as a value
    of the state (JSON types), None without one, ``_UNKNOWN`` when it is not a literal."""
    default = column.server_default
    if default is None:
        return None
    argument = getattr(default, "arg", None)
    if isinstance(argument, str):
        text = argument
    elif isinstance(argument, sa.TextClause):
        literal = argument.text.strip()
        # A literal as SQL writes it: a quoted text (optionally cast), a number, a boolean.
        quoted = re.match(r"^'((?:[^']|'')*)'(::[\w\" ]+)?$", literal)
        if quoted:
            text = quoted.group(1).replace("''", "'")
        elif _NUMBER.match(literal) or literal.lower() in ("true", "false"):
            text = literal
        elif literal.lower() == "null":
            return None
        else:
            return _UNKNOWN
    else:
        return _UNKNOWN
    return _typed(column.type, text)


def _typed(column_type: sa.types.TypeEngine[Any], text: str) -> Any:
    try:
        if isinstance(column_type, sa.Boolean):
            lowered = text.strip().lower()
            if lowered in ("1", "true", "t", "yes", "on"):
                return True
            if lowered in ("0", "false", "f", "no", "off"):
                return False
            return _UNKNOWN
        if isinstance(column_type, sa.Integer):
            return int(text)
        if isinstance(column_type, sa.Float | sa.Numeric):
            return float(text)
        if isinstance(column_type, sa.DateTime):
            return datetime.datetime.fromisoformat(text).isoformat()
    except ValueError:
        return _UNKNOWN
    return text


def writers(
    revisions: Iterable[DataScript], primary_keys: PrimaryKeys
) -> dict[tuple[str, Key], str]:
    """For each row, as (table, key), the last of ``revisions`` (oldest first) that wrote it."""
    last: dict[tuple[str, Key], str] = {}
    for script, data in revisions:
        for table, changes in data.change_set().tables.items():
            key_columns = primary_keys[table]
            rows = [*changes.inserts, *(update.key for update in changes.updates)]
            for row in [*rows, *changes.deletes]:
                last[(table, row_key(row, key_columns))] = script.revision
    return last


def resolve_data_revision(scripts: ScriptDirectory, name: str) -> DataScript:
    """The data revision ``name`` names: anything Alembic resolves to one revision (an id,
    a unique prefix of one, ``seeds@head``, ``heads`` when there is only one head)."""
    try:
        script = scripts.get_revision(name)
    except (CommandError, RevisionError) as error:
        raise UnknownRevision(f"revision {name!r}: {error}") from None
    if script is None:
        raise UnknownRevision(f"revision {name!r} is a base, not a data revision")
    data = data_of(script)
    if data is None:
        raise UnknownRevision(f"revision {name!r} ({script.revision}) is not a data revision")
    return script, data


def branch_labels(scripts: ScriptDirectory, script: Script) -> list[str]:
    """The branch labels of ``script``: its own and those of its down revisions."""
    return sorted(_labels(scripts, script))
