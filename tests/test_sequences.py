"""Keys a sequence or identity hands out (the ``counter`` fixture project): after a data
revision inserts rows with explicit keys, the application's own INSERT without a key gets
a key no row holds, after an upgrade, after a downgrade, and after offline SQL run with
the client (PostgreSQL: the engine moves the sequence forward, never back; SQLite: the
row id and AUTOINCREMENT follow explicit keys by themselves).

Not on MySQL/MariaDB: MariaDB's SETVAL takes only a constant, so moving a sequence past the
largest key needs a statement built from a value read first, which the engine does not do
yet (README, MySQL and MariaDB).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.changes.changeset import ChangeSet, TableChanges
from tests.databases import engine_for
from tests.small_projects import SmallProject, run_sql, small_project

SCHEMA, FIRST, SECOND = "c0a700000001", "c0a700000002", "c0a700000003"
TABLES = ("colour", "shape", "size")


@pytest.fixture(
    params=[
        pytest.param("sqlite_url", id="sqlite", marks=pytest.mark.sqlite),
        pytest.param("pg_url", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def counter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> SmallProject:
    url: str = request.getfixturevalue(request.param)
    return small_project("counter", url, monkeypatch)


def insert_as_the_application(project: SmallProject) -> dict[str, int]:
    """One INSERT without a key into each table, as the application's own code does it;
    the key each row got."""
    engine = engine_for(project.url)
    keys = {}
    try:
        with engine.begin() as connection:
            for name in TABLES:
                table = project.metadata.tables[name]
                result = connection.execute(table.insert().values(name=f"{name} by the app"))
                (keys[name],) = result.inserted_primary_key or (None,)
    finally:
        engine.dispose()
    return keys


def keys(project: SmallProject) -> dict[str, set[int]]:
    return {name: {key[0] for key in rows} for name, rows in project.content().items()}


def test_the_applications_insert_gets_a_fresh_key_after_upgrade_and_downgrade(
    counter: SmallProject,
) -> None:
    counter.upgrade(FIRST)
    first = insert_as_the_application(counter)
    assert all(key > 3 for key in first.values()), first

    counter.upgrade(SECOND)
    second = insert_as_the_application(counter)
    assert all(key > 11 for key in second.values()), second
    assert keys(counter) == {name: {1, 3, first[name], 10, 11, second[name]} for name in TABLES}

    # The downgrade puts key 2 back and takes 10 and 11 away: the counter stays where the
    # application had taken it.
    counter.downgrade(FIRST)
    third = insert_as_the_application(counter)
    for name in TABLES:
        assert third[name] > second[name], (name, third, second)
    assert keys(counter) == {
        name: {1, 2, 3, first[name], second[name], third[name]} for name in TABLES
    }


def test_offline_sql_moves_the_sequences_too(counter: SmallProject, tmp_path: Path) -> None:
    run_sql(counter.url, counter.sql(f"base:{FIRST}"), tmp_path / "first.sql")
    assert all(key > 3 for key in insert_as_the_application(counter).values())
    run_sql(counter.url, counter.sql(f"{FIRST}:{SECOND}"), tmp_path / "second.sql")
    after = insert_as_the_application(counter)
    assert all(key > 11 for key in after.values()), after
    run_sql(counter.url, counter.sql(f"{SECOND}:{FIRST}", down=True), tmp_path / "down.sql")
    for name, key in insert_as_the_application(counter).items():
        assert key > after[name]


def test_the_sequence_statement_is_a_no_op_on_a_table_without_a_sequence(pg_url: str) -> None:
    """An integer key the metadata calls autoincrement, but the table was made without a
    sequence: moving the sequence does nothing and fails nothing."""
    metadata = sa.MetaData()
    table = sa.Table("plain", metadata, sa.Column("id", sa.Integer, primary_key=True))
    engine = engine_for(pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE plain (id INTEGER PRIMARY KEY)"))
            report = apply_changes(
                connection, metadata, ChangeSet({"plain": TableChanges(inserts=[{"id": 5}])})
            )
            assert report.total().inserted == 1
            assert connection.execute(sa.select(table.c.id)).scalars().all() == [5]
    finally:
        engine.dispose()
