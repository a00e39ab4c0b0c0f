"""Tests of the test databases themselves (``tests/conftest.py``, ``tests/databases.py``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from alembic_seeds.migration.environment import database_url
from tests.databases import (
    DATABASE_PREFIX,
    HOW_TO_GET_POSTGRES,
    POSTGRES_IMAGE,
    PROJECT_ROOT,
    DockerContainer,
    NoPostgres,
    ServerUrl,
    admin_engine,
    alembic_config,
    database_exists,
    docker_available,
    drop_database,
    engine_for,
    normalize_postgres_url,
    postgres_source,
    run_alembic,
    temporary_database,
    unique_database_name,
)

# --- Where PostgreSQL comes from (pure) --------------------------------------------------


def _docker_must_not_be_asked() -> bool:
    raise AssertionError("Docker was asked although SEEDS_TEST_DATABASE_URL is set")


def _docker_up() -> bool:
    return True


def _docker_down() -> bool:
    return False


def test_url_comes_first_and_docker_is_not_asked() -> None:
    env = {"SEEDS_TEST_DATABASE_URL": "postgresql+psycopg://postgres@db:5432/test", "CI": "1"}
    source = postgres_source(env, _docker_must_not_be_asked)
    assert source == ServerUrl("postgresql+psycopg://postgres@db:5432/test")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://postgres@db/test", "postgresql+psycopg://postgres@db/test"),
        ("postgres://u:s3cret@db:5433/x", "postgresql+psycopg://u:s3cret@db:5433/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
    ],
)
def test_url_is_given_the_psycopg_driver(given: str, expected: str) -> None:
    assert normalize_postgres_url(given) == expected


@pytest.mark.parametrize("url", ["sqlite:///x.db", "mysql://u@db/x", "postgresql+psycopg2://u@h/x"])
def test_url_of_another_kind_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="SEEDS_TEST_DATABASE_URL must be a PostgreSQL URL"):
        postgres_source({"SEEDS_TEST_DATABASE_URL": url}, _docker_down)


def test_docker_comes_second() -> None:
    source = postgres_source({"SEEDS_TEST_DATABASE_URL": "  "}, _docker_up)
    assert source == DockerContainer(POSTGRES_IMAGE)
    assert POSTGRES_IMAGE == "postgres:15"


@pytest.mark.parametrize(
    "env",
    [{}, {"CI": ""}, {"SEEDS_TEST_DATABASE_URL": ""}],
    ids=["nothing", "CI-empty", "URL-empty"],
)
def test_no_postgres_without_ci_skips_with_the_reason(env: dict[str, str]) -> None:
    source = postgres_source(env, _docker_down)
    assert isinstance(source, NoPostgres)
    assert not source.required
    assert HOW_TO_GET_POSTGRES == "set SEEDS_TEST_DATABASE_URL or run a Docker engine"
    with pytest.raises(pytest.skip.Exception, match=HOW_TO_GET_POSTGRES):
        source.abort()


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_no_postgres_on_ci_fails_instead_of_skipping(ci: str) -> None:
    source = postgres_source({"CI": ci}, _docker_down)
    assert isinstance(source, NoPostgres)
    assert source.required
    with pytest.raises(pytest.fail.Exception, match=HOW_TO_GET_POSTGRES) as failure:
        source.abort()
    assert not isinstance(failure.value, pytest.skip.Exception)
    assert "CI is set" in str(failure.value)


@pytest.mark.parametrize("docker_host", ["tcp://127.0.0.1:1", "unix:///nonexistent/docker.sock"])
def test_docker_available_says_no_quickly(
    docker_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    started = time.monotonic()
    assert docker_available() is False
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("ci", "outcome"), [("1", "1 error"), ("", "1 skipped")], ids=["CI", "local"]
)
def test_without_postgres_the_tests_fail_on_ci_and_skip_elsewhere(ci: str, outcome: str) -> None:
    """End to end: a PostgreSQL test run in a pytest of its own, with no PostgreSQL at all."""
    env = {k: v for k, v in os.environ.items() if k not in ("SEEDS_TEST_DATABASE_URL", "CI")}
    env.update(DOCKER_HOST="tcp://127.0.0.1:1", CI=ci)
    test = f"{Path(__file__).resolve()}::test_pg_url_is_fresh_and_dropped_after"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rsE", test],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert outcome in output, output
    assert HOW_TO_GET_POSTGRES in output, output
    if ci:
        assert result.returncode == 1, output
        assert "PostgreSQL is required because CI is set" in output, output
    else:
        assert result.returncode == 0, output


# --- PostgreSQL databases ----------------------------------------------------------------


def _user_tables(url: str) -> list[str]:
    engine = engine_for(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_unique_database_names() -> None:
    names = {unique_database_name() for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.startswith(f"{DATABASE_PREFIX}{os.getpid()}_")
        assert len(name) <= 63  # PostgreSQL's limit for identifiers


def test_only_test_databases_are_dropped() -> None:
    engine = admin_engine("postgresql+psycopg://nobody@127.0.0.1:1/test")  # never connects
    with pytest.raises(ValueError, match="not a test database"):
        drop_database(engine, "test")


def test_temporary_database_is_created_empty_and_dropped_after(postgres_server_url: str) -> None:
    server = make_url(postgres_server_url)
    with temporary_database(postgres_server_url) as url:
        name = make_url(url).database
        assert name is not None
        assert name.startswith(DATABASE_PREFIX)
        assert name != server.database
        assert database_exists(postgres_server_url, name)
        assert _user_tables(url) == []
        # A connection left open does not stop the database from being dropped.
        engine = engine_for(url)
        leftover = engine.connect()
        leftover.execute(sa.text("CREATE TABLE t (id integer PRIMARY KEY)"))
        leftover.commit()
    assert not database_exists(postgres_server_url, name)
    assert database_exists(postgres_server_url, str(server.database))
    with contextlib.suppress(sa.exc.DBAPIError):
        leftover.close()
    engine.dispose()


@pytest.fixture
def dropped_afterwards(postgres_server_url: str) -> Iterator[list[str]]:
    """Names of databases that must be gone once the test's other fixtures are torn down."""
    names: list[str] = []
    yield names
    for name in names:
        assert not database_exists(postgres_server_url, name), f"{name} was not dropped"


def test_pg_url_is_fresh_and_dropped_after(
    dropped_afterwards: list[str], pg_url: str, postgres_server_url: str
) -> None:
    url, server = make_url(pg_url), make_url(postgres_server_url)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.username) == (server.host, server.port, server.username)
    assert url.database is not None
    assert url.database.startswith(f"{DATABASE_PREFIX}{os.getpid()}_")
    assert database_exists(postgres_server_url, url.database)
    assert _user_tables(pg_url) == []
    dropped_afterwards.append(url.database)


def test_pg_url_tests_are_marked(pg_url: str, request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("postgresql") is not None


# --- SQLite ------------------------------------------------------------------------------


def test_sqlite_url_is_a_new_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    url = make_url(sqlite_url)
    assert url.drivername == "sqlite"
    assert url.database is not None
    path = Path(url.database)
    assert path.parent == tmp_path.resolve()
    assert not path.exists()
    assert _user_tables(sqlite_url) == []


# --- Both backends -----------------------------------------------------------------------


def test_db_url_is_a_fresh_database_of_each_backend(
    db_url: str, request: pytest.FixtureRequest
) -> None:
    backend = request.node.callspec.params["db_url"]
    assert make_url(db_url).get_backend_name() == backend
    assert request.node.get_closest_marker(backend) is not None
    assert (request.node.get_closest_marker("postgresql") is not None) == (backend == "postgresql")
    assert _user_tables(db_url) == []


def test_engine_for_enforces_foreign_keys(db_url: str) -> None:
    engine = engine_for(db_url)
    try:
        assert isinstance(engine.pool, sa.pool.NullPool)
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


def test_alembic_env_points_at_the_project_and_the_database(
    alembic_env: Config, db_url: str
) -> None:
    assert alembic_env.config_file_name == str(PROJECT_ROOT / "alembic.ini")
    assert os.environ["DATABASE_URL"] == db_url
    assert database_url(alembic_env.config_file_name) == db_url
    script = ScriptDirectory.from_config(alembic_env)
    assert Path(script.dir) == PROJECT_ROOT / "migrations"


def test_alembic_config_takes_a_project_root(tmp_path: Path) -> None:
    assert alembic_config(tmp_path).config_file_name == str(tmp_path / "alembic.ini")
    assert alembic_config().config_file_name == str(PROJECT_ROOT / "alembic.ini")


def test_run_alembic_runs_the_cli_in_the_project(sqlite_url: str) -> None:
    result = run_alembic(["heads"], sqlite_url, PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert isinstance(result.stdout, str)
    result = run_alembic(["no-such-command"], sqlite_url, PROJECT_ROOT)
    assert result.returncode != 0
    assert "no-such-command" in result.stderr
