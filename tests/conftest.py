"""Fixtures giving each test its own database, on SQLite and on PostgreSQL.

- ``sqlite_url``: a fresh SQLite file.
- ``pg_url``: a fresh PostgreSQL database, dropped afterwards (see ``tests/databases.py``
  for where the server comes from: ``SEEDS_TEST_DATABASE_URL``, else Docker, else skip, or
  fail when ``CI`` is set).
- ``mysql_url``: a fresh MySQL or MariaDB database, dropped afterwards (the server comes from
  ``SEEDS_TEST_MYSQL_URL``; without it the test is skipped, or fails when ``CI`` is set).
- ``db_url``: all three, one after the other, so that a test written once runs on each.
- ``alembic_env``: the frozen Lumina fixture project's Alembic configuration (see
  ``tests/fixture_projects.py``), with ``DATABASE_URL`` set to ``db_url``.

Tests using PostgreSQL carry the ``postgresql`` marker, those using MySQL the ``mysql`` marker:
``-m "not postgresql"`` leaves them out.
"""

from __future__ import annotations

import compileall
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from alembic.config import Config

from tests.databases import (
    DockerContainer,
    NoServer,
    ServerSource,
    ServerUrl,
    alembic_config,
    docker_available,
    mariadb_container,
    mysql_source,
    postgres_container,
    postgres_source,
    sqlite_file_url,
    temporary_database,
)

# Each fixture project imports its own package (models, spec) from its folder, as a real
# project's alembic.ini does with prepend_sys_path: make them all importable to the tests.
for _project in sorted((Path(__file__).parent / "projects").iterdir()):
    if _project.is_dir() and str(_project) not in sys.path:
        sys.path.append(str(_project))

#: The engine's package, which every process the tests start imports.
ENGINE_PACKAGE = Path(__file__).parent.parent / "alembic_seeds"

#: Fixtures that need a PostgreSQL server; tests using them get the ``postgresql`` marker.
_POSTGRES_FIXTURES = frozenset({"postgres_server_url", "pg_url"})
#: The same for a MySQL or MariaDB server and the ``mysql`` marker.
_MYSQL_FIXTURES = frozenset({"mysql_server_url", "mysql_url"})


def pytest_sessionstart(session: pytest.Session) -> None:
    # Most of the suite's time outside the test process goes to the `alembic`, `seeds` and
    # `python -m pytest` processes it starts, as a deploy or a reader would. Each imports the
    # engine, which Python compiles anew in every process when it may not write bytecode
    # (PYTHONDONTWRITEBYTECODE, common in containers and CI images): about 0.6 s a process.
    # Compiled once here (into the __pycache__ folders that Python writes by default and git
    # ignores), every process reads it instead; sources newer than their bytecode are
    # compiled again, so it never stands for an edited file.
    compileall.compile_dir(ENGINE_PACKAGE, quiet=1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgresql: needs a PostgreSQL server (SEEDS_TEST_DATABASE_URL, else Docker);"
        ' leave out with -m "not postgresql"',
    )
    config.addinivalue_line(
        "markers",
        "mysql: needs a MySQL or MariaDB server (SEEDS_TEST_MYSQL_URL);"
        ' leave out with -m "not mysql"',
    )
    config.addinivalue_line("markers", "sqlite: runs on a SQLite file")
    config.addinivalue_line("markers", "slow: replays long histories (tens of seconds)")
    config.addinivalue_line(
        "markers",
        "data: checks the live seed data and data revisions (tests/data/), not the engine;"
        " SEEDS_DATA_PROJECT points them at another copy of the project",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Before the -m selection runs, so that it sees these markers.
    for item in items:
        if _POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgresql)
        if _MYSQL_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.mysql)


def _server(
    source: ServerSource, container: Callable[[str], AbstractContextManager[str]]
) -> Iterator[str]:
    """The URL of the server ``source`` names: given, or in a ``container`` of its image;
    with neither, skip (or fail, under CI)."""
    match source:
        case NoServer():
            source.abort()
        case ServerUrl(url=url):
            yield url
        case DockerContainer(image=image):
            with container(image) as url:
                yield url


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server database to create test databases from (never changed)."""
    yield from _server(postgres_source(os.environ, docker_available), postgres_container)


@pytest.fixture
def pg_url(postgres_server_url: str) -> Iterator[str]:
    """URL (``postgresql+psycopg://``) of a new empty PostgreSQL database, dropped after."""
    with temporary_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def mysql_server_url() -> Iterator[str]:
    """URL of a MySQL or MariaDB server database to create test databases from (never changed)."""
    yield from _server(mysql_source(os.environ, docker_available), mariadb_container)


@pytest.fixture
def mysql_url(mysql_server_url: str) -> Iterator[str]:
    """URL (``mysql+pymysql://``) of a new empty MySQL database, dropped after."""
    with temporary_database(mysql_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL (``sqlite:///``) of a SQLite file in ``tmp_path`` that does not exist yet."""
    return sqlite_file_url(tmp_path / "seeds_test.db")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh database, on SQLite, PostgreSQL and MySQL (MariaDB) in turn."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "pg_url", "mysql": "mysql_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def alembic_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The project's Alembic configuration, with ``DATABASE_URL`` set to ``db_url``.

    ``alembic.command.upgrade(alembic_env, "heads")`` migrates the test's database.
    """
    monkeypatch.setenv("DATABASE_URL", db_url)
    return alembic_config()


@pytest.fixture
def second_db_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Another fresh database on the backend of ``db_url`` (to compare two ways of filling)."""
    if db_url.startswith("sqlite"):
        yield sqlite_file_url(tmp_path / "seeds_test_second.db")
        return
    server_fixture = "mysql_server_url" if db_url.startswith("mysql") else "postgres_server_url"
    server: str = request.getfixturevalue(server_fixture)
    with temporary_database(server) as url:
        yield url
