"""Sidecar files: a large change set next to its revision, one change per line.

The lines are in canonical order (table, then inserts, updates, deletes), so a sidecar is
read lazily: one pass finds where each table's changes start and end, and each table's
rows are parsed only while they are applied. However large the file, memory stays flat.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

from alembic_seeds.changes.changeset import (
    ChangeSet,
    Row,
    RowUpdate,
    TableChanges,
    canonical_lines,
    checksum_of_lines,
    parse_change,
)
from alembic_seeds.errors import ChangeSetFormatError

#: The start of a canonical line: its table (a JSON string) and its op.
_PREFIX = re.compile(rb'^\{"table":("(?:[^"\\]|\\.)*"),"op":"(insert|update|delete)",')

T = TypeVar("T", Row, RowUpdate)


def write_sidecar(path: Path, changes: ChangeSet) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for line in canonical_lines(changes):
            file.write(line)
            file.write("\n")


class _Lines(Sequence[T]):
    """The changes of one table and op: lines ``start`` to ``end`` (byte offsets) of a file."""

    def __init__(self, path: Path, start: int, end: int, count: int, first_line: int) -> None:
        self._path = path
        self._start = start
        self._end = end
        self._count = count
        self._first_line = first_line

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        # Random access reads the whole range: fine for tests and small files.
        return list(self)[index]

    def __iter__(self) -> Iterator[T]:
        with self._path.open("rb") as file:
            file.seek(self._start)
            number = self._first_line
            remaining = self._end - self._start
            for raw in file:
                if remaining <= 0:
                    break
                remaining -= len(raw)
                try:
                    _table, _op, change = parse_change(raw.decode("utf-8"))
                except (ChangeSetFormatError, UnicodeDecodeError) as error:
                    raise ChangeSetFormatError(f"{self._path.name}:{number}: {error}") from None
                number += 1
                yield change  # type: ignore[misc]


class SidecarChangeSet(ChangeSet):
    """A change set backed by a sidecar file; its checksum is that of the file's lines."""

    def __init__(self, path: Path, tables: dict[str, TableChanges]) -> None:
        super().__init__(tables)
        self.path = path

    def checksum(self) -> str:
        return sidecar_checksum(self.path)


def sidecar_checksum(path: Path) -> str:
    """The checksum of the change set in ``path``, from its lines alone (nothing parsed)."""
    with path.open("rb") as file:
        lines = (raw.rstrip(b"\r\n") for raw in file)
        return checksum_of_lines(line for line in lines if line.strip())


def read_sidecar(path: Path) -> SidecarChangeSet:
    """Index ``path`` in one pass (no row is kept); rows are parsed when iterated."""
    ranges: dict[tuple[str, str], list[int]] = {}  # (table, op) -> [start, end, count, line]
    order: list[tuple[str, str]] = []
    offset = 0
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            if raw.strip():
                table, op = _table_and_op(raw, path, number)
                entry = ranges.get((table, op))
                if entry is None:
                    ranges[(table, op)] = [offset, offset + len(raw), 1, number]
                    order.append((table, op))
                elif order[-1] != (table, op):
                    raise ChangeSetFormatError(
                        f"{path.name}:{number}: {table} {op} lines must be together"
                    )
                else:
                    entry[1] = offset + len(raw)
                    entry[2] += 1
            offset += len(raw)
    tables: dict[str, TableChanges] = {}
    for (table, op), (start, end, count, first_line) in ranges.items():
        changes = tables.setdefault(table, TableChanges())
        lines: _Lines[Any] = _Lines(path, start, end, count, first_line)
        if op == "insert":
            changes.inserts = lines
        elif op == "update":
            changes.updates = lines
        else:
            changes.deletes = lines
    return SidecarChangeSet(path, tables)


@functools.lru_cache(maxsize=1024)
def _names(table: bytes, op: bytes) -> tuple[str, str]:
    # A sidecar names few tables on many lines: decode each spelling once.
    return json.loads(table), op.decode()


def _table_and_op(raw: bytes, path: Path, number: int) -> tuple[str, str]:
    match = _PREFIX.match(raw)
    if match is not None:
        return _names(match.group(1), match.group(2))
    try:
        table, op, _change = parse_change(raw.decode("utf-8"))
    except (ChangeSetFormatError, UnicodeDecodeError) as error:
        raise ChangeSetFormatError(f"{path.name}:{number}: {error}") from None
    return table, op
