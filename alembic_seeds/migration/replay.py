"""Offline replay: the state that a branch's data revisions produce, with no database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from alembic_seeds.changes.changeset import Dataset, Key, PrimaryKeys, apply_to_dataset, row_key
from alembic_seeds.errors import ReplayError, UnknownRevision
from alembic_seeds.migration.revision import DataRevision

#: A data revision: its Alembic script and the ``data`` object of its module.
DataScript = tuple[Script, DataRevision]


def data_revisions(scripts: ScriptDirectory, branch: str) -> list[tuple[Script, DataRevision]]:
    """The data revisions of ``branch``, oldest first (empty when the branch has none)."""
    try:
        walked = list(scripts.walk_revisions("base", f"{branch}@head"))
    except CommandError:
        return []
    found = []
    for script in reversed(walked):
        data = getattr(script.module, "data", None)
        if isinstance(data, DataRevision) and branch in _labels(scripts, script):
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


def replay(scripts: ScriptDirectory, branch: str, primary_keys: PrimaryKeys) -> Dataset:
    return replay_revisions(data_revisions(scripts, branch), primary_keys)


def replay_revisions(revisions: Iterable[DataScript], primary_keys: PrimaryKeys) -> Dataset:
    """The state that ``revisions`` (oldest first) produce from nothing."""
    state: Dataset = {}
    for script, data in revisions:
        _apply(state, script, data, primary_keys)
    return state


def _apply(state: Dataset, script: Script, data: DataRevision, primary_keys: PrimaryKeys) -> None:
    """Replay one revision on ``state``; a change that does not fit names the revision."""
    try:
        apply_to_dataset(state, data.change_set(), primary_keys)
    except ReplayError as error:
        raise ReplayError(f"data revision {script.revision}: {error}") from None


def data_revisions_under(scripts: ScriptDirectory, heads: Sequence[str]) -> list[DataScript]:
    """The data revisions that ``heads`` are or build on, of every branch, oldest first.

    "Build on" as Alembic upgrades: down revisions and ``depends_on`` alike, so this is what
    a database at ``heads`` has applied. Unknown heads raise Alembic's ``CommandError`` or
    ``RevisionError``.
    """
    if not heads:
        return []
    # Alembic refuses heads of which one builds on another (a schema head that a data
    # revision depends on, say): keep those that no other head builds on.
    below = {head: {s.revision for s in scripts.iterate_revisions(head, "base")} for head in heads}
    independent = tuple(
        head for head in heads if not any(head != other and head in below[other] for other in heads)
    )
    walked = list(scripts.iterate_revisions(independent, "base"))
    found: list[DataScript] = []
    for script in reversed(walked):  # Alembic lists them newest first
        data = getattr(script.module, "data", None)
        if isinstance(data, DataRevision):
            found.append((script, data))
    return found


@dataclass(frozen=True)
class States:
    """One data revision, and the states just before and just after it."""

    script: Script
    data: DataRevision
    before: Dataset
    after: Dataset


def states_around(scripts: ScriptDirectory, primary_keys: PrimaryKeys, revision: str) -> States:
    """Replay the data revisions that ``revision`` (a full id) builds on, then itself."""
    found = data_revisions_under(scripts, [revision])
    if not found or found[-1][0].revision != revision:
        raise UnknownRevision(f"{revision} is not a data revision")
    *earlier, (script, data) = found
    before = replay_revisions(earlier, primary_keys)
    # Replay replaces rows, it never changes one in place: copying the tables is enough.
    after = {table: dict(rows) for table, rows in before.items()}
    _apply(after, script, data, primary_keys)
    return States(script, data, before, after)


def replay_until(scripts: ScriptDirectory, primary_keys: PrimaryKeys, revision: str) -> Dataset:
    """The state after the data revision ``revision`` (itself and all it builds on)."""
    return states_around(scripts, primary_keys, revision).after


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
    data = getattr(script.module, "data", None)
    if not isinstance(data, DataRevision):
        raise UnknownRevision(f"revision {name!r} ({script.revision}) is not a data revision")
    return script, data


def branch_labels(scripts: ScriptDirectory, script: Script) -> list[str]:
    """The branch labels of ``script``: its own and those of its down revisions."""
    return sorted(_labels(scripts, script))
