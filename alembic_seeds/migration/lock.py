"""One PostgreSQL advisory lock for every Alembic run of a database (schema and data alike).

Deploys often start several processes at once. The first takes the lock and migrates; the
others wait for it (polling, so that they never sit in the server's lock queue), then find
nothing left to do. A waiter gives up after a bounded time and names the holder.
"""

from __future__ import annotations

import time
import zlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.errors import LockTimeout

#: The lock key: the same for every process that migrates this kind of project.
LOCK_KEY = zlib.crc32(b"alembic-seeds migrations") & 0x7FFFFFFF
POLL_SECONDS = 0.2


def acquire(connection: Connection, wait_seconds: float) -> None:
    """Take the lock on ``connection`` (a session lock), waiting at most ``wait_seconds``.

    The transaction that polling opened is committed, so that Alembic starts on a
    connection with no transaction of its own (an open one would make Alembic treat it as
    external and never commit).
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        taken = connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
        if taken.scalar_one():
            connection.commit()
            return
        holder = describe_holder(connection)
        connection.commit()
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"another migration holds the lock (key {LOCK_KEY}): {holder}; "
                f"gave up after {wait_seconds:g} s, nothing was written"
            )
        time.sleep(POLL_SECONDS)


def release(connection: Connection) -> None:
    if connection.in_transaction():
        connection.rollback()
    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    connection.commit()


def describe_holder(connection: Connection) -> str:
    row: Any = connection.execute(
        sa.text(
            "SELECT a.pid, a.application_name, a.client_addr, a.state,"
            " extract(epoch FROM now() - a.xact_start) AS seconds"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            # Advisory locks belong to one database; others may use the same key.
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1"
        ),
        {"key": LOCK_KEY},
    ).first()
    if row is None:
        return "holder unknown (it just finished)"
    where = f" from {row.client_addr}" if row.client_addr else ""
    busy = f", in a transaction for {row.seconds:.0f} s" if row.seconds is not None else ""
    return (
        f"pid {row.pid} ({row.application_name or 'no application name'}{where}, {row.state}{busy})"
    )
