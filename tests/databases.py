"""Test databases: where PostgreSQL comes from, and throwaway databases on both backends.

PostgreSQL comes from, in this order:

1. ``SEEDS_TEST_DATABASE_URL``: a SQLAlchemy URL of a server (and a database on it) where we
   may run ``CREATE DATABASE``. That database itself is only ever connected to.
2. A Docker engine that answers: a ``postgres:15`` container started by testcontainers, once
   per test session.
3. Nothing: PostgreSQL tests are skipped, unless ``CI`` is set (to any non-empty value), in
   which case they fail, so that CI can never silently skip PostgreSQL.

Every test gets its own database (``seeds_test_<pid>_<n>_<random>``), created empty from
``template0`` and dropped afterwards, connections still open or not.

MySQL or MariaDB comes from ``SEEDS_TEST_MYSQL_URL`` (``mysql+pymysql://...``), else a
``mariadb:10.11`` container when a Docker engine answers; without either, MySQL tests are
skipped, or fail when ``CI`` is set. Its throwaway databases take the server's default
character set and collation, as a user's would.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from alembic_seeds.migration.environment import make_engine
from tests.fixture_projects import LUMINA

#: Environment variable naming the PostgreSQL server to create test databases on.
URL_ENV = "SEEDS_TEST_DATABASE_URL"
#: Environment variable that, when non-empty, turns "no PostgreSQL" from a skip into a failure.
CI_ENV = "CI"
#: Prefix of every database the tests create; nothing else is ever dropped.
DATABASE_PREFIX = "seeds_test_"
#: Image of the PostgreSQL container started when no URL is given but Docker answers.
POSTGRES_IMAGE = "postgres:15"
#: What to do to get PostgreSQL tests to run.
HOW_TO_GET_POSTGRES = f"set {URL_ENV} or run a Docker engine"
MARIADB_IMAGE = "mariadb:10.11"

_SQLALCHEMY_DRIVER = "postgresql+psycopg"
#: Environment variable naming the MySQL or MariaDB server to create test databases on.
MYSQL_URL_ENV = "SEEDS_TEST_MYSQL_URL"
_MYSQL_DRIVER = "mysql+pymysql"
_counter = itertools.count(1)

#: Text for the tables the tests define: VARCHAR in utf8mb4 compared by bytes on MySQL (a key
#: cannot be on TEXT there, and the default collations merge ids that differ in case).
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


# --- Where PostgreSQL comes from ---------------------------------------------------------


@dataclass(frozen=True)
class ServerUrl:
    """A running server, given by ``SEEDS_TEST_DATABASE_URL`` (normalized to psycopg)."""

    url: str


@dataclass(frozen=True)
class DockerContainer:
    """No URL, but a Docker engine answers: start the server (PostgreSQL, MariaDB) in a
    container."""

    image: str = POSTGRES_IMAGE


@dataclass(frozen=True)
class NoServer:
    """No server (PostgreSQL or MySQL) at all. ``required`` (CI is set): fail, never skip."""

    reason: str
    required: bool

    def abort(self) -> NoReturn:
        """Fail the test (``required``) or skip it, with ``reason``."""
        if self.required:
            pytest.fail(self.reason, pytrace=False)
        pytest.skip(self.reason)


ServerSource = ServerUrl | DockerContainer | NoServer


def postgres_source(env: Mapping[str, str], docker_available: Callable[[], bool]) -> ServerSource:
    """Decide where PostgreSQL comes from; pure but for calling ``docker_available``.

    ``docker_available`` is only called when ``SEEDS_TEST_DATABASE_URL`` is not set.
    """
    url = env.get(URL_ENV, "").strip()
    if url:
        return ServerUrl(normalize_postgres_url(url))
    if docker_available():
        return DockerContainer()
    if env.get(CI_ENV, "").strip():
        return NoServer(
            f"PostgreSQL is required because {CI_ENV} is set, but there is none: "
            f"{HOW_TO_GET_POSTGRES}",
            required=True,
        )
    return NoServer(f"no PostgreSQL server: {HOW_TO_GET_POSTGRES}", required=False)


def mysql_source(env: Mapping[str, str], docker_available: Callable[[], bool]) -> ServerSource:
    """Decide where MySQL comes from, as :func:`postgres_source` does for PostgreSQL:
    ``SEEDS_TEST_MYSQL_URL``, else a MariaDB container, else nothing (a skip, or a failure
    when ``CI`` is set)."""
    url = env.get(MYSQL_URL_ENV, "").strip()
    if url:
        return ServerUrl(normalize_mysql_url(url))
    if docker_available():
        return DockerContainer(MARIADB_IMAGE)
    how = f"set {MYSQL_URL_ENV} or run a Docker engine"
    if env.get(CI_ENV, "").strip():
        return NoServer(
            f"MySQL is required because {CI_ENV} is set, but there is none: {how}",
            required=True,
        )
    return NoServer(f"no MySQL server: {how}", required=False)


def normalize_mysql_url(url: str) -> str:
    """``url`` with the PyMySQL driver; ``ValueError`` if it is not a MySQL URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("mysql", "mariadb"):
        raise ValueError(
            f"{MYSQL_URL_ENV} must be a MySQL URL ({_MYSQL_DRIVER}://user@host:port/database), "
            f"not {parsed.drivername}://..."
        )
    return parsed.set(drivername=_MYSQL_DRIVER).render_as_string(hide_password=False)


def normalize_postgres_url(url: str) -> str:
    """``url`` with the psycopg (3) driver; ``ValueError`` if it is not a PostgreSQL URL."""
    parsed = make_url(url)
    if parsed.drivername not in ("postgres", "postgresql", _SQLALCHEMY_DRIVER):
        raise ValueError(
            f"{URL_ENV} must be a PostgreSQL URL using psycopg "
            f"({_SQLALCHEMY_DRIVER}://user@host:port/database), not {parsed.drivername}://..."
        )
    return parsed.set(drivername=_SQLALCHEMY_DRIVER).render_as_string(hide_password=False)


def docker_available(timeout: int = 3) -> bool:
    """Whether a Docker engine answers a ping within ``timeout`` seconds. Never raises."""
    try:
        # Imported by name: the Docker SDK ships no type information.
        docker = importlib.import_module("docker")
        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextmanager
def postgres_container(image: str = POSTGRES_IMAGE) -> Iterator[str]:
    """Run PostgreSQL in a container (testcontainers); yield the URL of its database."""
    try:
        from testcontainers.community.postgres import PostgresContainer  # noqa: PLC0415
    except ImportError:  # testcontainers before the "community" modules
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

    with PostgresContainer(image, driver="psycopg") as container:
        yield normalize_postgres_url(container.get_connection_url())


@contextmanager
def mariadb_container(image: str = MARIADB_IMAGE) -> Iterator[str]:
    """Run MariaDB in a container (testcontainers); yield the URL of its database, as root
    (the tests create their own databases there)."""
    from testcontainers.community.mysql import MySqlContainer  # noqa: PLC0415

    with MySqlContainer(image, dialect="pymysql", username="root", password="test") as container:
        yield normalize_mysql_url(container.get_connection_url())


# --- Throwaway databases -----------------------------------------------------------------


def unique_database_name() -> str:
    """A database name no other test (in this process or another) uses."""
    return f"{DATABASE_PREFIX}{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:8]}"


def admin_engine(server_url: str) -> Engine:
    """An engine on ``server_url`` for CREATE/DROP DATABASE (autocommit, no pool)."""
    return create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


@contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server of ``server_url``; yield its URL; drop it.

    The database of ``server_url`` is only connected to. The new database is dropped even
    if connections to it are still open.
    """
    name = unique_database_name()
    server = make_url(server_url)
    if name == server.database:  # pragma: no cover - a guard, not a case
        raise RuntimeError(f"refusing to use the server's own database {name!r}")
    admin = admin_engine(server_url)
    mysql = admin.dialect.name == "mysql"
    try:
        quoted = admin.dialect.identifier_preparer.quote(name)
        with admin.connect() as connection:
            # MySQL has no templates: a new database is empty.
            template = "" if mysql else " TEMPLATE template0"
            connection.execute(text(f"CREATE DATABASE {quoted}{template}"))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            drop_database(admin, name)
    finally:
        admin.dispose()


def drop_database(admin: Engine, name: str) -> None:
    """Drop the test database ``name``, first ending the sessions still connected to it."""
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    quoted = admin.dialect.identifier_preparer.quote(name)
    if admin.dialect.name == "mysql":
        _drop_mysql_database(admin, name)
        return
    with admin.connect() as connection:
        version = connection.dialect.server_version_info or (0,)
        if version >= (13,):
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            return
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))


def _drop_mysql_database(admin: Engine, name: str) -> None:
    """End the sessions using ``name`` (DROP DATABASE would wait for their locks), drop it."""
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as connection:
        sessions = connection.execute(
            text(
                "SELECT id FROM information_schema.processlist"
                " WHERE db = :name AND id <> connection_id()"
            ),
            {"name": name},
        ).scalars()
        for session in sessions.all():
            with contextlib.suppress(Exception):
                connection.execute(text(f"KILL {int(session)}"))
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))


def database_exists(server_url: str, name: str) -> bool:
    """Whether the server of ``server_url`` has a database called ``name``."""
    admin = admin_engine(server_url)
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
        return found is not None
    finally:
        admin.dispose()


def sqlite_file_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file ``path``."""
    return f"sqlite:///{path.resolve()}"


# --- Engines and Alembic -----------------------------------------------------------------


def engine_for(url: str) -> Engine:
    """An engine as the project makes them: no pool; on SQLite, foreign keys enforced."""
    return make_engine(url)


def hand_engine(url: str) -> Engine:
    """An engine for statements written by hand in the tests.

    They quote names the standard way ("Translation"); MySQL reads that as a string unless
    the session has ANSI_QUOTES, so there its connections get it (only this engine's, never
    the project's own).
    """
    engine = engine_for(url)
    if engine.dialect.name in ("mysql", "mariadb"):
        # Set by the driver as it connects, so that SQLAlchemy sees the mode from the start
        # (its reflection reads SHOW CREATE TABLE in the quotes the mode gives).
        event.listen(engine, "do_connect", _ansi_quotes)
    return engine


def _ansi_quotes(_dialect: Any, _record: Any, _args: Any, parameters: dict[str, Any]) -> None:
    parameters["init_command"] = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')"


@contextmanager
def by_hand(url: str) -> Iterator[Connection]:
    """A connection of ``hand_engine``, committed at the end."""
    engine = hand_engine(url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def alembic_config(project_root: Path = LUMINA) -> Config:
    """The Alembic configuration of the project (its ``alembic.ini``).

    The database URL is not in it: ``migrations/env.py`` reads ``DATABASE_URL``.
    """
    return Config(str(project_root / "alembic.ini"))


def run_alembic(
    args: Sequence[str], url: str, cwd: Path = LUMINA, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m alembic ARGS`` as a user would, with ``DATABASE_URL=url``, in ``cwd``.

    Output is captured as text; the return code is not checked.
    """
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
