"""The PostgreSQL server of the benchmark: throwaway databases, the schema, counters.

Every database the benchmark makes is called ``seeds_bench_<pid>_*`` and is dropped after use;
the database the URL names is only connected to (to run ``CREATE DATABASE``), never changed.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy import pool
from sqlalchemy.engine import Engine, make_url

from bench.generate import ROOT, tool

URL_ENV = "BENCH_DATABASE_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: Every database of a run is named ``seeds_bench_<pid>_...`` by the process that runs it, so
#: that runs at the same time on one server never touch each other's databases.
BASE_PREFIX = "seeds_bench_"
PREFIX = f"{BASE_PREFIX}{os.getpid()}_"
SCHEMA_TEMPLATE = f"{PREFIX}schema"
_RUN = re.compile(rf"^{BASE_PREFIX}(\d+)_")


def default_url() -> str:
    """``BENCH_DATABASE_URL``, else ``SEEDS_TEST_DATABASE_URL``, else the local server."""
    for name in (URL_ENV, "SEEDS_TEST_DATABASE_URL"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return DEFAULT_URL


@dataclass(frozen=True)
class Server:
    """A server where databases may be created; ``url`` names one to connect to."""

    url: str

    def via(self, host: str, port: int) -> Server:
        """The same server reached at ``host:port`` (the latency relay in front of it)."""
        url = make_url(self.url).set(host=host, port=port)
        return Server(url.render_as_string(hide_password=False))

    def address(self) -> tuple[str, int]:
        """Host and port of the server (what the latency relay connects to)."""
        url = make_url(self.url)
        return url.host or "127.0.0.1", url.port or 5432

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server (psycopg driver)."""
        url = make_url(self.url).set(drivername="postgresql+psycopg", database=database)
        return url.render_as_string(hide_password=False)

    def conninfo(self, database: str | None = None) -> str:
        """libpq URI for plain psycopg."""
        url = make_url(self.url).set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    def engine(self, database: str) -> Engine:
        return sa.create_engine(self.url_for(database), poolclass=pool.NullPool)

    @contextmanager
    def admin(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            yield connection

    def create(self, name: str, template: str | None = None) -> str:
        assert name.startswith(PREFIX), name
        self.drop(name)
        with self.admin() as connection:
            clause = f' TEMPLATE "{template}"' if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{clause}'.encode())
        return name

    def drop(self, name: str) -> None:
        assert name.startswith(BASE_PREFIX), name
        with self.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())

    def drop_all(self) -> None:
        """Drop this run's databases, and those of runs no longer running (interrupted)."""
        with self.admin() as connection:
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{BASE_PREFIX}%"]
                )
            ]
        for name in names:
            match = _RUN.match(name)
            if match is not None and (name.startswith(PREFIX) or not _running(int(match[1]))):
                self.drop(name)

    def checkpoint(self) -> None:
        """Write dirty buffers out, so that one run does not pay for the last one's writes."""
        with self.admin() as connection:
            connection.execute("CHECKPOINT")

    def make_schema_template(self) -> float:
        """``alembic upgrade schema@head`` into a fresh database, kept as a template.

        Every contender's database is a ``CREATE DATABASE ... TEMPLATE`` copy of it: the
        real tables, enum types, indexes and constraints, as the schema revisions make them.
        Returns the wall time of the upgrade.
        """
        self.create(SCHEMA_TEMPLATE)
        started = time.perf_counter()
        subprocess.run(
            [tool("alembic"), "upgrade", "schema@head"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": self.url_for(SCHEMA_TEMPLATE)},
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started

    def with_schema(self, name: str) -> str:
        """A new database ``name`` holding the schema and no rows."""
        return self.create(name, template=SCHEMA_TEMPLATE)

    def version(self) -> str:
        with self.admin() as connection:
            row = connection.execute("SHOW server_version").fetchone()
        assert row is not None
        return str(row[0])

    def settings(self, names: tuple[str, ...]) -> dict[str, str]:
        with self.admin() as connection:
            rows = connection.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                [list(names)],
            ).fetchall()
        return {str(name): str(value) for name, value in rows}

    def user_table_writes(self, database: str) -> dict[str, int]:
        """Rows inserted, updated and deleted in the user tables of ``database`` so far,
        and the transactions committed there (statistics as the server keeps them)."""
        self.wait_idle(database)
        with psycopg.connect(self.conninfo(database), autocommit=True) as connection:
            connection.execute("SELECT pg_stat_clear_snapshot()")
            row = connection.execute(
                "SELECT coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0),"
                " coalesce(sum(n_tup_del), 0) FROM pg_stat_user_tables"
            ).fetchone()
            commits = connection.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
        assert row is not None and commits is not None
        return {
            "inserted": int(row[0]),
            "updated": int(row[1]),
            "deleted": int(row[2]),
            "commits": int(commits[0]),
        }

    def wait_idle(self, database: str, timeout: float = 10.0) -> None:
        """Until no other session is connected to ``database`` (its statistics are flushed
        when a session ends)."""
        deadline = time.monotonic() + timeout
        with self.admin() as connection:
            while time.monotonic() < deadline:
                row = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]
                ).fetchone()
                if row is not None and row[0] == 0:
                    return
                time.sleep(0.05)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine. (A run from another machine against
    the same server is not told apart: its pid is looked up here.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    postgresql: str
    python: str
    settings: dict[str, str]

    def line(self) -> str:
        settings = ", ".join(f"{name}={value}" for name, value in self.settings.items())
        return (
            f"{self.cpu}, {self.cores} cores, {self.memory_gib:.1f} GiB RAM; "
            f"PostgreSQL {self.postgresql} ({settings}); Python {self.python}"
        )


def machine(server: Server) -> Machine:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 1024 / 1024
    return Machine(
        cpu=cpu,
        cores=os.cpu_count() or 0,
        memory_gib=memory,
        postgresql=server.version(),
        python=platform.python_version(),
        settings=server.settings(("shared_buffers", "synchronous_commit", "fsync")),
    )
