"""What a migration run does differently on each database: its lock, its session settings and
how its failures read.

One module per dialect, named as SQLAlchemy names the dialect (``postgresql.py``,
``sqlite.py``), each with one ``DIALECT``. A dialect without a module gets ``Dialect`` itself:
no lock, no settings, the driver's own words. Supporting another database is one more
module here.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine

from alembic_seeds.migration.lock import MigrationLock
from alembic_seeds.migration.timeouts import Timeouts


class Dialect:
    """The defaults: nothing beyond what SQLAlchemy and Alembic do."""

    name = "default"
    #: The lock every run takes; None: the database has none, and runs must not overlap.
    lock: MigrationLock | None = None
    #: Whether DDL statements are part of the transaction around them (not on MySQL).
    transactional_ddl: bool = True
    #: What to do about a failed connection: the hint of the first entry all of whose words
    #: are in the driver's message.
    connect_hints: tuple[tuple[tuple[str, ...], str], ...] = ()

    def connect_args(self, timeouts: Timeouts) -> dict[str, Any]:
        """Options for the driver's connect() of an engine this project makes."""
        return {}

    def prepare_engine(self, engine: Engine) -> None:
        """Set up every connection of an engine this project makes."""

    def prepare_session(self, connection: Connection, timeouts: Timeouts) -> None:
        """Settings of the session a migration runs in (on a connection anyone made)."""

    def describe_error(self, error: BaseException, timeouts: Timeouts) -> str | None:
        """What a driver error raised during a run means, in words; None: its own message."""
        return None

    def connect_hint(self, message: str) -> str | None:
        """What to do about a failed connection (``message``: the driver's first line)."""
        for words, hint in self.connect_hints:
            if all(word in message for word in words):
                return hint
        return None

    @contextlib.contextmanager
    def rebuilding(self, context: MigrationContext) -> Iterator[None]:
        """Around a schema revision's rebuild of a table that other tables refer to."""
        yield


def dialect_for(name: str) -> Dialect:
    """The support of the SQLAlchemy dialect ``name`` (``engine.dialect.name``)."""
    module_name = f"{__name__}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return Dialect()
    dialect: Dialect = module.DIALECT
    return dialect
