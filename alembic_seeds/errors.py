"""Every failure alembic-seeds reports, under one base class.

``SeedsError`` is what the ``seeds`` command line turns into an ``error: ...`` line and what
a migration run turns into Alembic's ``FAILED: ...`` line: its message is written for
people, names what is wrong and where, and never holds a password. Anything else that
escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic_seeds.apply.engine import Mismatch


class SeedsError(Exception):
    """Base class of every error alembic-seeds raises on purpose."""


class ConfigError(SeedsError):
    """``alembic.ini`` (its ``[seeds]`` section) or the spec does not say what is needed."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem of ``seeddata/``: ``path:line: rule: detail``."""

    path: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.detail}"


class DatasetError(SeedsError):
    """``seeddata/`` holds problems; nothing may be written.

    The problems keep the order they are given in (root causes first), each once.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(dict.fromkeys(problems))
        super().__init__("\n".join(str(problem) for problem in self.problems))


class UnplacedRowsError(SeedsError):
    """Rows that no file of the spec can hold (an owned row without its owner, say)."""


class ChangeSetError(SeedsError):
    """A stored change set cannot be read, or does not fit the state it is replayed on."""


class ChangeSetFormatError(ChangeSetError):
    """A stored change set cannot be read."""


class ReplayError(ChangeSetError):
    """A change set does not apply to the state it is replayed on."""


class UnknownRevision(SeedsError):
    """A revision name that names no data revision."""


class SchemaError(SeedsError):
    """The metadata cannot be seeded as it stands (foreign keys that form a cycle)."""


class DatabaseAccessError(SeedsError):
    """The database cannot be reached or read as needed (one line, no password in it)."""


class LockTimeout(SeedsError):
    """Another run held the migration lock for longer than this run was willing to wait."""


class ApplyError(SeedsError):
    """A data revision stopped before writing anything; ``context`` names it."""


class TableLockedError(ApplyError):
    """A table stayed locked by another transaction for longer than the lock timeout."""

    def __init__(self, table: str, context: str = "") -> None:
        self.table = table
        head = f"{context}: " if context else ""
        super().__init__(
            f"{head}table {table} is locked by another transaction; gave up after the lock "
            "timeout (-x lock_timeout=SECONDS), nothing was written"
        )


class DriftError(ApplyError):
    """Rows in the database differ from what the change set expects; nothing was written.

    ``mismatches`` holds one entry per row.
    """

    def __init__(self, mismatches: Sequence[Mismatch], context: str = "") -> None:
        self.mismatches = list(mismatches)
        head = f"{context}: " if context else ""
        lines = [f"{head}{len(self.mismatches)} row(s) differ from what the change set expects"]
        lines += [f"  {mismatch}" for mismatch in self.mismatches]
        lines.append("  nothing was written; -x seeds_drift=overwrite or =skip choose otherwise")
        super().__init__("\n".join(lines))
