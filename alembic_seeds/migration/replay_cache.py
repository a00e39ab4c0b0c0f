"""A cache of replayed states, so that replay grows with the changes, not with the history.

Replay (``seeds revision --autogenerate``, ``seeds check``, ``seeds show``) walks every
revision of the history and applies every data revision's change set to an empty state.
The cache keeps what the last walk produced, together with the history it walked: each
revision's id and the checksum of its content (a data revision's change set, by the
checksum the applied-revision log records; a schema revision's file), in the order walked.
A later walk whose history starts with exactly that list starts from the cached state and
replays only the revisions after it; anything else (a revision edited, deleted, added
below others, or the order changed; another engine version or primary keys; a file that
is unreadable, truncated or altered) is a miss, and the walk is a full replay, which then
writes the cache anew. So the cache changes how long replay takes, never what it finds.

Where: ``.seeds_cache/`` in the script directory (beside ``env.py``), which holds a
``.gitignore`` of its own, like ``.pytest_cache/`` and ``.mypy_cache/``: a cache belongs to
one working copy, is never committed, and deleting the folder is always safe.

Each kind of walk (one branch's rows; every branch's) has its own pair of files: a small
JSON header (the history, and the SHA-256 and size of the payload) and the payload, a
pickle that may hold plain data only: the reader refuses every class and function, so a
cache file can make the reader build nothing but dicts, lists, tuples and scalars.

The state is packed by table: the column names once per shape of row, then each row as a
tuple of its values, its key taken from them again on reading. Written as dicts, every row
would carry its own copy of every column name and of its key (a pickle without a memo
shares nothing), which doubled what a read-back state takes in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from alembic_seeds.changes.changeset import Dataset, Key, Row, row_key

#: The folder of the replay cache, inside the script directory.
CACHE_FOLDER = ".seeds_cache"
#: Raise when what replay produces from the same revisions changes, or the payload's form.
FORMAT = 2

#: One revision of a walk: its id, the checksum of its content, whether its rows were taken.
Step = tuple[str, str, bool]
#: Per data revision, per table: the columns it names and whether it inserts rows.
Columns = dict[str, dict[str, tuple[list[str], bool]]]


def cache_folder(script_directory: Path) -> Path:
    return script_directory / CACHE_FOLDER


@dataclass
class Cached:
    """What a walk left: the state after its ``steps`` and what the next walk needs of it."""

    steps: list[Step]
    state: Dataset
    #: ``Loss`` fields (revision, table, column, rows), oldest first.
    losses: list[tuple[str, str, str | None, int]]
    #: Statements given as text that may have changed a table: table -> (revision, SQL).
    unfollowed: dict[str, list[tuple[str, str]]]
    columns: Columns


class ReplayCache:
    """The cache of one kind of walk (``identity`` names it: the engine version, what rows
    the walk takes, the primary keys) in ``folder``."""

    def __init__(
        self, folder: Path, identity: Any, primary_keys: Mapping[str, Sequence[str]]
    ) -> None:
        self.folder = folder
        self.primary_keys = primary_keys
        text = json.dumps([FORMAT, identity], sort_keys=True, default=str)
        name = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        self.header = folder / f"replay-{name}.json"
        self.payload = folder / f"replay-{name}.pickle"

    def load(self, steps: Sequence[Step]) -> Cached | None:
        """The cached walk when its history is where ``steps`` start (or is ``steps``)."""
        try:
            header = json.loads(self.header.read_text(encoding="utf-8"))
            cached_steps = [tuple(step) for step in header["steps"]]
            if cached_steps != list(steps[: len(cached_steps)]):
                return None
            with self.payload.open("rb") as file:
                if _digest(file) != (header["sha256"], header["size"]):
                    return None
                file.seek(0)
                packed, losses, unfollowed, columns = _DataOnly(file).load()
            state = _unpacked(packed, self.primary_keys)
        except Exception:  # a cache that cannot be read is a miss, whatever the cause
            return None
        found_steps = [(s[0], s[1], s[2]) for s in cached_steps]
        return Cached(found_steps, state, losses, unfollowed, columns)

    def goes_on_from(self, steps: Sequence[Step]) -> bool:
        """Whether the cached history starts with ``steps`` and goes on from them: a
        shorter walk (an older revision's) leaves the longer cache alone."""
        try:
            header = json.loads(self.header.read_text(encoding="utf-8"))
            cached_steps = [tuple(step) for step in header["steps"]]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return len(cached_steps) > len(steps) and cached_steps[: len(steps)] == list(steps)

    def save(self, cached: Cached) -> None:
        """Write ``cached`` (payload first, then the header that vouches for it); a folder
        that cannot be written leaves the cache out, nothing else."""
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# The replay cache of alembic-seeds: never committed.\n*\n")
            with _replacing(self.payload) as file:
                pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
                # No memo: it would hold an entry for every row, key and value written
                # (gigabytes for millions of rows). Plain data has no cycles; a value
                # that two rows share is written twice, which reads back equal.
                pickler.fast = True
                packed = _packed(cached.state, self.primary_keys)
                pickler.dump((packed, cached.losses, cached.unfollowed, cached.columns))
                file.flush()
                file.seek(0)
                sha256, size = _digest(file)
            header = {"format": FORMAT, "steps": cached.steps, "sha256": sha256, "size": size}
            with _replacing(self.header) as file:
                file.write(json.dumps(header).encode("utf-8"))
        except OSError:
            return


#: One table of a packed state: its rows' shapes (column names), which shape each row has
#: (empty when all have the first), and each row's values in its shape's order.
_PackedTable = tuple[list[tuple[str, ...]], list[int], list[tuple[Any, ...]]]


def _packed(state: Dataset, primary_keys: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """``state`` by table as ``_PackedTable``; a table whose keys cannot be read off its
    rows again (no primary key known, a key that differs from its row's) stays as it is."""
    packed: dict[str, Any] = {}
    for table, rows in state.items():
        key_columns = primary_keys.get(table)
        shapes: dict[tuple[str, ...], int] = {}
        which: list[int] = []
        values: list[tuple[Any, ...]] = []
        for key, row in rows.items():
            if key_columns is None or not _keyed_by(row, key, key_columns):
                packed[table] = rows
                break
            which.append(shapes.setdefault(tuple(row), len(shapes)))
            values.append(tuple(row.values()))
        else:
            packed[table] = (list(shapes), which if len(shapes) > 1 else [], values)
    return packed


def _unpacked(packed: dict[str, Any], primary_keys: Mapping[str, Sequence[str]]) -> Dataset:
    state: Dataset = {}
    for table, entry in packed.items():
        if isinstance(entry, dict):
            state[table] = entry
            continue
        shapes, which, values = entry
        key_columns = primary_keys[table]
        rows: dict[Key, Row] = {}
        for number, row_values in enumerate(values):
            row = dict(zip(shapes[which[number] if which else 0], row_values, strict=True))
            rows[row_key(row, key_columns)] = row
        state[table] = rows
    return state


def _keyed_by(row: Row, key: Key, key_columns: Sequence[str]) -> bool:
    """Whether ``key`` can be read off ``row`` again."""
    try:
        return row_key(row, key_columns) == key
    except KeyError:
        return False


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``path`` that replaces it when the block ends without error:
    a reader sees the old file or the new one, never half of one."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w+b") as file:
            yield file
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _digest(file: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class _DataOnly(pickle.Unpickler):
    """Reads plain data only: any class or function a pickle names is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"the replay cache holds plain data only, not {module}.{name}")
