"""Tables that refer to themselves (the ``tree`` fixture project): parents are inserted
before their children and children deleted before their parents, online and in offline SQL
run with psql or sqlite3, whether the foreign key is plain (``node``, ON DELETE RESTRICT) or
DEFERRABLE (``branch``). The revisions list children before parents in key order when they
insert and parents first when they delete, so only an order by the references works. The
node names are texts that offline SQL must keep byte for byte (``%``, ``%s``, ``%(x)s``,
tabs, backslashes, quotes, ``$$``, line breaks, a carriage return).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.small_projects import SmallProject, run_sql, small_project

SCHEMA, FIRST, SECOND = "7e1a00000001", "7e1a00000002", "7e1a00000003"
TABLES = ("node", "branch")


@pytest.fixture
def tree(db_url: str, monkeypatch: pytest.MonkeyPatch) -> SmallProject:
    return small_project("tree", db_url, monkeypatch)


def parents(project: SmallProject) -> dict[str, dict[str, str | None]]:
    content = project.content()
    return {
        table: {key[0]: row["parent_id"] for key, row in content[table].items()} for table in TABLES
    }


def test_a_tree_is_written_parents_first_and_deleted_children_first(tree: SmallProject) -> None:
    tree.upgrade(FIRST)
    first = tree.content()
    for table in TABLES:
        assert parents(tree)[table]["a-leaf"] == "m-middle"
        assert {"c-branch", "x-twig", "y-bud"} <= parents(tree)[table].keys()

    tree.upgrade(SECOND)
    after = parents(tree)
    for table in TABLES:
        assert not {"c-branch", "x-twig", "y-bud"} & after[table].keys()
        assert after[table]["d-new"] == "z-root"
        assert after[table]["b-newchild"] == "d-new"
        assert after[table]["a-leaf"] == "d-new"

    tree.downgrade(FIRST)
    assert tree.content() == first
    tree.downgrade(SCHEMA)
    assert all(not rows for rows in tree.content().values())
    assert [(e.revision, e.direction) for e in tree.log()] == [
        (FIRST, "upgrade"),
        (SECOND, "upgrade"),
        (SECOND, "downgrade"),
        (FIRST, "downgrade"),
    ]


def test_offline_sql_of_a_tree_runs_with_the_client_and_equals_online(
    tree: SmallProject, second_db_url: str, tmp_path: Path
) -> None:
    online = tree.at(second_db_url)
    sql = tree.sql("head")
    # The log rows take the database's clock when the SQL runs, not when it was printed.
    printed = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    run_sql(tree.url, sql, tmp_path / "up.sql")
    ran = datetime.now(UTC).replace(tzinfo=None)
    for entry in tree.log():
        applied = (
            entry.applied_at.astimezone(UTC).replace(tzinfo=None)
            if entry.applied_at.tzinfo
            else entry.applied_at
        )
        assert printed <= applied <= ran, (printed, applied, ran)
        # PostgreSQL measures the transaction's time as the SQL runs; SQLite cannot tell.
        if tree.url.startswith("postgresql"):
            assert entry.duration_ms > 0
        else:
            assert entry.duration_ms == 0
    online.upgrade("head")
    assert tree.content() == online.content()
    assert parents(tree)["node"]["a-leaf"] == "d-new"
    # The texts as the revisions hold them, byte for byte (not %% for %, no tab expanded,
    # no carriage return lost).
    names = {key[0]: row["name"] for key, row in tree.content()["node"].items()}
    assert names["z-root"] == "100%% sure, 'really'"
    assert names["m-middle"] == "%s and %d"
    assert names["a-leaf"] == "moved\\ %% leaf"
    assert names["b-newchild"] == "new\tchild 50%"
    assert names["d-new"] == "%(y)s new"
    assert names["t-06"] == "$$ dollar $$ $tag$ body $tag$"
    assert names["t-07"] == "line one\nline two\n"
    assert names["t-08"] == "crlf\r\nline"
    assert names["t-15"] == "עברית 100%"
    assert [(e.revision, e.direction, e.checksum) for e in tree.log()] == [
        (e.revision, e.direction, e.checksum) for e in online.log()
    ]

    # Down again, offline: the deleted subtree comes back parents first, the new one goes
    # children first; then the whole tree goes, children first.
    run_sql(tree.url, tree.sql(f"{SECOND}:{FIRST}", down=True), tmp_path / "down.sql")
    online.downgrade(FIRST)
    assert tree.content() == online.content()
    run_sql(tree.url, tree.sql(f"{FIRST}:{SCHEMA}", down=True), tmp_path / "base.sql")
    online.downgrade(SCHEMA)
    assert tree.content() == online.content()
    assert all(not rows for rows in tree.content().values())
