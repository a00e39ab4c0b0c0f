"""Drift: rows of the database that are not as a change set expects them, and what to do."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from alembic_seeds.changes.changeset import Row


class DriftPolicy(enum.StrEnum):
    """What to do with rows that are not as the change set expects them."""

    ERROR = "error"  # stop before writing anything (the default)
    OVERWRITE = "overwrite"  # write the change set's values anyway
    SKIP = "skip"  # leave those rows as they are, apply the rest


@dataclass(frozen=True)
class Mismatch:
    """A row of the database that differs from what a change expects.

    ``kind`` is "conflict" (an insert meets another row), "changed", "missing", or
    "dependent" (skip leaves the row because a row it leaves refers to it: ``because``).
    """

    table: str
    key: Row
    kind: str
    columns: tuple[tuple[str, Any, Any], ...] = ()  # (column, database value, expected value)
    operation: str = "insert"  # the change it stands in the way of
    because: str = ""

    def __str__(self) -> str:
        key = ", ".join(f"{name}={value!r}" for name, value in self.key.items())
        if self.kind == "missing":
            return f"{self.table} {key}: row is missing from the database"
        if self.kind == "dependent":
            return f"{self.table} {key}: {self.operation} left undone: {self.because}"
        what = "insert meets a different row" if self.kind == "conflict" else "row was changed"
        details = "; ".join(
            f"{column}: database has {db!r}, expected {want!r}" for column, db, want in self.columns
        )
        return f"{self.table} {key}: {what}: {details}"

    def describe_key(self) -> str:
        return f"{self.table} " + ", ".join(f"{n}={v!r}" for n, v in self.key.items())
