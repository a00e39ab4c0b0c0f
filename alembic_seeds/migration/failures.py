"""How a failed migration run reads: one line that names the revision and its direction,
says what happened, and what that left in the database.

Alembic prints a ``CommandError`` as one ``FAILED: ...`` line and anything else as a
traceback. Failures people cause or meet at deploy time (the database refused or cancelled
a statement, the connection went away, a ``SeedsError``) become a ``CommandError`` here; a
bug in a revision's Python code stays a traceback, as does everything when
``SEEDS_TRACEBACK`` is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationInfo
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from alembic_seeds.errors import SeedsError
from alembic_seeds.migration.database import database_message
from alembic_seeds.migration.dialects import dialect_for
from alembic_seeds.migration.timeouts import Timeouts

#: How the errors that stop a data revision before it writes say so.
WRITTEN_NOTHING = "nothing was written"
#: Set to a non-empty value to get the traceback of a failure instead of its one line.
TRACEBACK_VARIABLE = "SEEDS_TRACEBACK"

Steps = Callable[[Any, Any], Iterable[Any]]


class RevisionTracker:
    """Which revision a run is in, so that a failure can name it.

    Alembic has no public hook before a step starts (``on_version_apply`` comes after its
    work), so the tracker wraps the command's list of steps (the ``fn`` of its
    ``EnvironmentContext``) and notes each step as Alembic takes it. A step stays noted
    until the next one starts, so a failure at COMMIT names it too.
    """

    def __init__(self) -> None:
        self.running: MigrationInfo | None = None

    def wrap(self, steps: Steps) -> Steps:
        if getattr(steps, "tracker", None) is self:
            return steps

        def tracked(heads: Any, migration_context: Any) -> Iterator[Any]:
            for step in steps(heads, migration_context):
                self.running = getattr(step, "info", None)
                yield step
            self.running = None

        tracked.tracker = self  # type: ignore[attr-defined]
        return tracked

    def where(self) -> Where | None:
        """The revision running, and its direction; None outside every revision."""
        info = self.running
        if info is None or info.up_revision_id is None:
            return None
        return Where(info.up_revision_id, "upgrade" if info.is_upgrade else "downgrade")


@dataclass(frozen=True)
class Where:
    revision: str
    direction: str

    def __str__(self) -> str:
        return f"revision {self.revision} ({self.direction})"


@dataclass(frozen=True)
class Failure:
    """What went wrong, in words; whether the connection is gone with it; and whether the
    words already say what was written (as the errors of the apply engine do)."""

    what: str
    connection_lost: bool = False
    complete: bool = False
    #: The database commits each DDL statement on its own (MySQL): a schema revision that
    #: failed keeps what ran before the failure.
    ddl_committed: bool = False


def understood(error: BaseException, connection: Connection, timeouts: Timeouts) -> Failure | None:
    """The failure ``error`` is, when it is one people meet at deploy time; None: a bug."""
    if os.environ.get(TRACEBACK_VARIABLE):
        return None
    if isinstance(error, SeedsError):
        text = str(error)
        return Failure(text, complete=WRITTEN_NOTHING in text)
    dbapi = connection.dialect.loaded_dbapi
    if isinstance(error, sa.exc.DBAPIError):
        original: BaseException = error.orig if error.orig is not None else error
        lost = bool(error.connection_invalidated)
    elif isinstance(error, dbapi.Error):
        # Raised by the driver itself (a COPY), unseen by SQLAlchemy.
        original = error
        lost = connection.dialect.is_disconnect(error, None, None)
    else:
        return None
    support = dialect_for(connection.dialect.name)
    committed = not support.transactional_ddl
    described = support.describe_error(original, timeouts)
    if described is not None:
        return Failure(described, lost or connection.invalidated, ddl_committed=committed)
    message = database_message(original, connection.engine.url)
    if lost:
        return Failure(f"the connection to the database was lost ({message})", True)
    return Failure(message, ddl_committed=committed)


def failed(failure: Failure, where: Where | None, state: str | None = None) -> CommandError:
    """The ``CommandError`` Alembic prints as ``FAILED: <the line>``.

    ``state``: where the database stands, read afresh (after a lost connection).
    """
    parts = []
    if where is not None and not re.match(rf"(data )?revision {where.revision}\b", failure.what):
        parts.append(f"{where}: ")
    parts.append(failure.what)
    if not failure.complete:
        parts.append(f"; {_consequence(failure, where)}")
    if state:
        parts.append(f"; {state}")
    return CommandError("".join(parts))


def _consequence(failure: Failure, where: Where | None) -> str:
    if where is None:
        return "nothing was written"
    if failure.connection_lost:
        return "the server rolled back what the revision had not committed"
    if failure.ddl_committed:
        return (
            "a data revision was rolled back, nothing of it was written; of a schema revision "
            "the DDL statements before the failure stay (this database commits each one), "
            "with the version table at the revision before it"
        )
    return "it was rolled back, nothing of it was written"
