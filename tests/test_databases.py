"""The promises of the test databases that the suite's results rest on.

- CI never skips a backend: without a server, PostgreSQL tests fail when ``CI`` is set.
- Only throwaway databases are ever dropped, and they go even with connections open.
- The engines the project makes enforce foreign keys on SQLite (SQLite's default is off).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.databases import (
    DATABASE_PREFIX,
    HOW_TO_GET_POSTGRES,
    MARIADB_IMAGE,
    DockerContainer,
    NoServer,
    ServerUrl,
    admin_engine,
    database_exists,
    drop_database,
    engine_for,
    mysql_source,
    postgres_source,
    temporary_database,
)
from tests.fixture_projects import REPOSITORY_ROOT


def _docker_must_not_be_asked() -> bool:
    raise AssertionError("Docker was asked although SEEDS_TEST_DATABASE_URL is set")


def test_a_given_url_wins_and_must_be_postgresql() -> None:
    env = {"SEEDS_TEST_DATABASE_URL": "postgresql://postgres@db:5432/test", "CI": "1"}
    assert postgres_source(env, _docker_must_not_be_asked) == ServerUrl(
        "postgresql+psycopg://postgres@db:5432/test"
    )
    with pytest.raises(ValueError, match="must be a PostgreSQL URL"):
        postgres_source({"SEEDS_TEST_DATABASE_URL": "sqlite:///x.db"}, lambda: False)


@pytest.mark.parametrize(("ci", "required"), [("true", True), ("", False)])
def test_without_postgres_ci_fails_and_elsewhere_skips(ci: str, required: bool) -> None:
    source = postgres_source({"CI": ci}, lambda: False)
    assert isinstance(source, NoServer)
    assert source.required is required
    expected = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(expected, match=HOW_TO_GET_POSTGRES):
        source.abort()


def test_mysql_comes_from_its_url_else_a_mariadb_container_else_ci_fails() -> None:
    env = {"SEEDS_TEST_MYSQL_URL": "mariadb://root@db:3306/test", "CI": "1"}
    assert mysql_source(env, _docker_must_not_be_asked) == ServerUrl(
        "mysql+pymysql://root@db:3306/test"
    )
    with pytest.raises(ValueError, match="must be a MySQL URL"):
        mysql_source({"SEEDS_TEST_MYSQL_URL": "postgresql://db/test"}, lambda: False)
    assert mysql_source({"CI": "1"}, lambda: True) == DockerContainer(MARIADB_IMAGE)
    for ci, required in (("true", True), ("", False)):
        source = mysql_source({"CI": ci}, lambda: False)
        assert isinstance(source, NoServer)
        assert source.required is required
        assert "SEEDS_TEST_MYSQL_URL or run a Docker engine" in source.reason


def test_without_postgres_a_ci_run_fails_end_to_end() -> None:
    """A PostgreSQL test in a pytest of its own, with CI set and no PostgreSQL at all."""
    env = {k: v for k, v in os.environ.items() if k != "SEEDS_TEST_DATABASE_URL"}
    env.update(DOCKER_HOST="tcp://127.0.0.1:1", CI="1")
    test = f"{Path(__file__).resolve()}::test_temporary_database_is_empty_and_dropped_after"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rsE", test],
        cwd=REPOSITORY_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "PostgreSQL is required because CI is set" in output, output


def test_only_test_databases_are_dropped() -> None:
    engine = admin_engine("postgresql+psycopg://nobody@127.0.0.1:1/test")  # never connects
    with pytest.raises(ValueError, match="not a test database"):
        drop_database(engine, "test")


def test_temporary_database_is_empty_and_dropped_after(postgres_server_url: str) -> None:
    server = make_url(postgres_server_url)
    with temporary_database(postgres_server_url) as url:
        name = str(make_url(url).database)
        assert name.startswith(DATABASE_PREFIX)
        assert database_exists(postgres_server_url, name)
        engine = engine_for(url)
        assert sa.inspect(engine).get_table_names() == []
        # A connection left open does not stop the database from being dropped.
        leftover = engine.connect()
        leftover.execute(sa.text("CREATE TABLE t (id integer PRIMARY KEY)"))
        leftover.commit()
    assert not database_exists(postgres_server_url, name)
    assert database_exists(postgres_server_url, str(server.database))
    with contextlib.suppress(sa.exc.DBAPIError):
        leftover.close()
    engine.dispose()


def test_engines_enforce_foreign_keys(db_url: str) -> None:
    engine = engine_for(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE parent (id integer PRIMARY KEY)"))
            connection.execute(
                sa.text(
                    "CREATE TABLE child (id integer PRIMARY KEY, parent_id integer"
                    " NOT NULL REFERENCES parent (id))"
                )
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO child (id, parent_id) VALUES (1, 42)"))
    finally:
        engine.dispose()
