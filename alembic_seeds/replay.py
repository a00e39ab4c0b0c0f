"""Offline replay: the state that a branch's data revisions produce, with no database."""

from __future__ import annotations

from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from alembic_seeds.changeset import Dataset, PrimaryKeys, apply_to_dataset
from alembic_seeds.revision import DataRevision


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
    state: Dataset = {}
    for _script, data in data_revisions(scripts, branch):
        apply_to_dataset(state, data.change_set(), primary_keys)
    return state
