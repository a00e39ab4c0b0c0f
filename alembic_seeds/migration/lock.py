"""One lock per database that every Alembic run of a project takes (schema and data alike).

Deploys often start several processes at once. The first takes the lock and migrates; the
others wait for it, then find nothing left to do. A waiter polls (it never sits in the
server's lock queue, where it would block a ``CREATE INDEX CONCURRENTLY`` of the holder),
gives up after a bounded time, and names the holder.

How a lock is taken is the dialect's business: each dialect that has one implements
``MigrationLock`` in its module under ``alembic_seeds.migration.dialects`` (PostgreSQL: a
session advisory lock). The waiting, the deadline and the message are the same for all.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.errors import LockTimeout

#: What the lock is called where a dialect's locks have names (and what its key derives from).
LOCK_NAME = "alembic-seeds migrations"
POLL_SECONDS = 0.2


class MigrationLock(ABC):
    """A lock held by one database session, released when that session ends.

    A session lock (not a transaction lock) because every revision commits on its own: the
    lock must outlive each of those transactions, and die with the session if the process
    does.
    """

    #: How the lock is named in messages (``key 1201115209``).
    name: str

    @abstractmethod
    def try_acquire(self, connection: Connection) -> bool:
        """Take the lock if nobody holds it; never wait."""

    @abstractmethod
    def unlock_statement(self, connection: Connection) -> sa.Executable:
        """The statement that gives the lock back on ``connection``."""

    def release(self, connection: Connection) -> None:
        """Give the lock back, ending first whatever transaction the run left open."""
        if connection.in_transaction():
            connection.rollback()
        connection.execute(self.unlock_statement(connection))
        connection.commit()

    @abstractmethod
    def describe_holder(self, connection: Connection) -> str:
        """Who holds the lock, for people (``pid 4711 (alembic-seeds from 10.0.0.7, ...)``)."""

    def acquire(self, connection: Connection, wait_seconds: float) -> None:
        """Take the lock on ``connection``, waiting at most ``wait_seconds``.

        The transaction that polling opened is committed each time, so that Alembic starts on
        a connection with no transaction of its own (it would take an open one for the
        caller's and never commit).
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            taken = self.try_acquire(connection)
            holder = None if taken else self.describe_holder(connection)
            connection.commit()
            if holder is None:
                return
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"another migration holds the lock ({self.name}): {holder}; "
                    f"gave up after {wait_seconds:g} s, nothing was written"
                )
            time.sleep(POLL_SECONDS)
