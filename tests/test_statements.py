"""The statements the engine emits, per dialect, without a server (in the spirit of
Alembic's ``op_fixture``): an offline MigrationContext that compiles each statement and
records it, and the online writes compiled for PostgreSQL or recorded on an in-memory
SQLite database. The real-database tests beside these show that the statements work; these
show which statements, in which order, with which text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from counter_fixture.models import metadata as counter_metadata
from ranks_fixture.models import metadata as ranks_metadata
from sqlalchemy.engine import make_url
from tree_fixture.models import metadata as tree_metadata

from alembic_seeds.apply import dialect as dialect_module
from alembic_seeds.apply import writes
from alembic_seeds.apply.dialect import ApplyImpl, impl_for
from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.apply.mysql import MariadbImpl, MysqlImpl
from alembic_seeds.apply.plan import build_plan
from alembic_seeds.apply.postgresql import PostgresqlImpl
from alembic_seeds.apply.sqlite import SqliteImpl
from alembic_seeds.apply.staging import staging_table
from alembic_seeds.changes.changeset import ChangeSet, RowUpdate, TableChanges
from alembic_seeds.migration.revision_run import render_offline

DIALECTS = ("postgresql", "sqlite", "mysql")
POSTGRESQL = make_url("postgresql+psycopg://").get_dialect()()
MYSQL = make_url("mysql+pymysql://").get_dialect()()


def offline(dialect: str, metadata: sa.MetaData, changes: ChangeSet) -> list[str]:
    """What ``--sql`` writes for ``changes`` (and its log row), statement by statement."""
    migration = MigrationContext.configure(
        dialect_name=dialect,
        opts={"as_sql": True, "output_buffer": io.StringIO(), "literal_binds": True},
    )
    recorded: list[str] = []
    migration.impl.static_output = recorded.append  # type: ignore[method-assign, assignment]
    render_offline(
        migration, metadata, changes, revision="r1", direction="upgrade", checksum="v1:x"
    )
    assert all(statement.endswith(";") for statement in recorded)
    return recorded


def ids_in(statements: list[str], verb: str, table: str) -> list[str]:
    """The ids, in statement order, of ``verb`` statements on ``table``."""
    found = []
    for statement in statements:
        if statement.startswith(f"{verb} {table} ") or statement.startswith(
            f"{verb} FROM {table} "
        ):
            match = re.search(r"'([a-z]-[a-z]+)'", statement)
            assert match is not None, statement
            found.append(match.group(1))
    return found


def node(id_: str, parent: str | None) -> dict[str, Any]:
    return {"id": id_, "parent_id": parent, "name": id_}


#: A tree whose children sort before their parents: a-leaf -> m-middle -> z-root.
TREE = [node("a-leaf", "m-middle"), node("m-middle", "z-root"), node("z-root", None)]
#: A subtree whose parents sort first: c-branch <- x-twig <- y-bud.
SUBTREE = [node("c-branch", "z-root"), node("x-twig", "c-branch"), node("y-bud", "x-twig")]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_offline_rows_of_a_self_referencing_table_go_parents_first(dialect: str) -> None:
    changes = ChangeSet({"node": TableChanges(inserts=TREE)})
    assert ids_in(offline(dialect, tree_metadata, changes), "INSERT INTO", "node") == [
        "z-root",
        "m-middle",
        "a-leaf",
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_offline_deletes_of_a_self_referencing_table_go_children_first(dialect: str) -> None:
    changes = ChangeSet({"node": TableChanges(deletes=SUBTREE)})
    statements = offline(dialect, tree_metadata, changes)
    assert ids_in(statements, "DELETE", "node") == ["y-bud", "x-twig", "c-branch"]
    # Nothing to defer: the order alone satisfies the plain foreign key.
    assert not any("DEFERRED" in s or "defer_foreign_keys" in s for s in statements)


def test_offline_sequences_move_after_the_inserts_on_postgresql_only() -> None:
    changes = ChangeSet(
        {
            "colour": TableChanges(inserts=[{"id": 7, "name": "red"}]),
            "shape": TableChanges(inserts=[{"id": 3, "name": "round"}]),
        }
    )
    statements = offline("postgresql", counter_metadata, changes)
    assert [s.split(" ")[0] for s in statements] == [
        "INSERT",
        "INSERT",
        "SELECT",
        "SELECT",
        "INSERT",
    ]
    serial, named = statements[2], statements[3]
    assert serial == (
        "SELECT setval(CAST(pg_get_serial_sequence('colour', 'id') AS REGCLASS), "
        "seeds_largest_key.m) AS setval_1 \nFROM (SELECT max(colour.id) AS m \nFROM colour) AS "
        "seeds_largest_key \nWHERE seeds_largest_key.m > coalesce(pg_sequence_last_value("
        "CAST(pg_get_serial_sequence('colour', 'id') AS REGCLASS)), 0);"
    )
    assert "setval(CAST('shape_id_seq' AS REGCLASS)" in named
    assert "alembic_seeds_log" in statements[4]
    sqlite = offline("sqlite", counter_metadata, changes)
    assert not any("setval" in s or "sequence" in s.lower() for s in sqlite)


@pytest.mark.parametrize(
    ("dialect", "clock", "elapsed"),
    [
        (
            "postgresql",
            "clock_timestamp()",
            "EXTRACT(EPOCH FROM clock_timestamp() - transaction_timestamp()) * 1000",
        ),
        ("sqlite", "CURRENT_TIMESTAMP", "0"),
    ],
)
def test_offline_log_row_takes_the_databases_clock(dialect: str, clock: str, elapsed: str) -> None:
    changes = ChangeSet({"colour": TableChanges(inserts=[{"id": 1, "name": "red"}])})
    log = offline(dialect, counter_metadata, changes)[-1]
    assert log.startswith("INSERT INTO alembic_seeds_log ")
    assert f", {clock}, " in log
    assert log.endswith(f", {elapsed});")
    assert not re.search(r"'\d{4}-\d\d-\d\d", log), log  # no literal date-time


#: Texts that a driver's parameter style, a tab expansion or a shell would change.
TEXTS = ["100% sure", "%s %(x)s %%", "tab\tthere", "back\\slash", "it's", "$$", "two\nlines"]


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_offline_texts_are_written_byte_for_byte(dialect: str) -> None:
    rows = [node(f"t-{i:02}", None) | {"name": text} for i, text in enumerate(TEXTS)]
    statements = offline(dialect, tree_metadata, ChangeSet({"node": TableChanges(inserts=rows)}))
    for statement, text in zip(statements, TEXTS, strict=False):
        assert "'" + text.replace("'", "''") + "'" in statement, (statement, text)


def test_offline_sqlite_spells_a_carriage_return_as_bytes() -> None:
    row = node("t-cr", None) | {"name": "a\r\nb"}
    (insert, _log) = offline(
        "sqlite", tree_metadata, ChangeSet({"node": TableChanges(inserts=[row])})
    )
    assert "CAST(X'610d0a62' AS TEXT)" in insert
    (insert, _log) = offline(
        "postgresql", tree_metadata, ChangeSet({"node": TableChanges(inserts=[row])})
    )
    assert "'a\r\nb'" in insert  # psql keeps it as it is


def test_offline_mysql_escapes_backslashes_and_spells_a_carriage_return_as_bytes() -> None:
    """The mysql client reads a backslash as an escape (unless NO_BACKSLASH_ESCAPES), and
    drops a carriage return before a line break."""
    rows = [node(f"t-{i:02}", None) | {"name": text} for i, text in enumerate(TEXTS)]
    rows.append(node("t-cr", None) | {"name": "a\r\nb"})
    statements = offline("mysql", tree_metadata, ChangeSet({"node": TableChanges(inserts=rows)}))
    for statement, text in zip(statements, TEXTS, strict=False):
        escaped = text.replace("\\", "\\\\").replace("'", "''")
        assert "'" + escaped + "'" in statement, (statement, text)
    assert "CONVERT(X'610d0a62' USING utf8mb4)" in statements[len(TEXTS)]


SWAP = ChangeSet(
    {
        "label": TableChanges(
            updates=[
                RowUpdate({"id": "L1"}, {"code": "alpha"}, {"code": "beta"}),
                RowUpdate({"id": "L2"}, {"code": "beta"}, {"code": "alpha"}),
            ]
        )
    }
)


@pytest.mark.parametrize(("dialect", "marker"), [("postgresql", "chr(31)"), ("sqlite", "char(31)")])
def test_offline_swap_parks_both_rows_first(dialect: str, marker: str) -> None:
    statements = offline(dialect, ranks_metadata, SWAP)
    assert statements[:4] == [
        f"UPDATE label SET code=({marker} || CAST(0 AS TEXT)) WHERE label.id = 'L1';",
        f"UPDATE label SET code=({marker} || CAST(1 AS TEXT)) WHERE label.id = 'L2';",
        "UPDATE label SET code='beta' WHERE label.id = 'L1';",
        "UPDATE label SET code='alpha' WHERE label.id = 'L2';",
    ]


def test_offline_swap_parks_both_rows_first_on_mysql_with_a_text_marker() -> None:
    # CHAR(31) alone would be a binary string on MySQL.
    marker = "char(31 USING utf8mb4)"
    assert offline("mysql", ranks_metadata, SWAP)[:4] == [
        f"UPDATE label SET code=(concat({marker}, CAST(0 AS CHAR))) WHERE label.id = 'L1';",
        f"UPDATE label SET code=(concat({marker}, CAST(1 AS CHAR))) WHERE label.id = 'L2';",
        "UPDATE label SET code='beta' WHERE label.id = 'L1';",
        "UPDATE label SET code='alpha' WHERE label.id = 'L2';",
    ]


def test_offline_number_parking_starts_above_every_value_written() -> None:
    changes = ChangeSet(
        {
            "item": TableChanges(
                updates=[
                    RowUpdate({"id": "I1"}, {"position": 1}, {"position": 2}),
                    RowUpdate({"id": "I2"}, {"position": 2}, {"position": 40}),
                ],
                inserts=[{"id": "I3", "label_id": "L1", "position": 1, "note": None}],
            )
        }
    )
    park = offline("postgresql", ranks_metadata, changes)[0]
    assert park.startswith("UPDATE item SET position=((SELECT coalesce(max(seeds_parking.m), 0)")
    assert "FROM item AS seeds_parking_source UNION ALL SELECT 40 AS m" in park
    assert park.endswith("+ 1 + 0) WHERE item.id = 'I1';")


def test_offline_deferrable_unique_constraint_is_deferred_on_postgresql_instead() -> None:
    metadata = sa.MetaData()
    sa.Table(
        "word",
        metadata,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.UniqueConstraint("text", deferrable=True, initially="IMMEDIATE"),
    )
    rekey = ChangeSet(
        {
            "word": TableChanges(
                inserts=[{"id": "new", "text": "same"}], deletes=[{"id": "old", "text": "same"}]
            )
        }
    )
    statements = offline("postgresql", metadata, rekey)
    assert statements[0] == "SET CONSTRAINTS ALL DEFERRED;"
    assert [s.split(" ")[0] for s in statements[1:]] == ["INSERT", "DELETE", "INSERT"]
    # SQLite cannot defer a unique constraint: the old row steps aside.
    sqlite = offline("sqlite", metadata, rekey)
    assert sqlite[0] == "UPDATE word SET text=(char(31) || CAST(0 AS TEXT)) WHERE word.id = 'old';"


# -- online ----------------------------------------------------------------------------


def test_online_writes_compile_to_one_statement_per_table_for_postgresql() -> None:
    plan = build_plan(ranks_metadata, SWAP)
    (label,) = plan.tables
    staging = staging_table(
        sa.MetaData(),
        1,
        label.table,
        ["id", "code"],
        with_before=["code"],
        park=["code"],
        ordinal=True,
    )
    dialect = POSTGRESQL
    park = str(writes.park(label, staging).compile(dialect=dialect))
    assert park == (
        "UPDATE label SET code=CASE WHEN seeds_staging_1.p1 THEN chr(31) || "
        "CAST(seeds_staging_1.o AS TEXT) ELSE label.code END FROM seeds_staging_1 "
        "WHERE label.id = seeds_staging_1.v0 AND seeds_staging_1.p1"
    )
    update = str(writes.update(staging).compile(dialect=dialect))
    assert update.startswith("UPDATE label SET code=CASE WHEN seeds_staging_1.s1 THEN")


def test_online_deletes_of_a_self_referencing_table_go_one_depth_at_a_time() -> None:
    node_table = tree_metadata.tables["node"]
    staging = staging_table(
        sa.MetaData(), 1, node_table, list(node_table.columns.keys()), depth=True
    )
    statement = str(writes.delete(staging, depth=2).compile(dialect=POSTGRESQL))
    assert statement.endswith(
        "WHERE node.id = seeds_staging_1.v0 AND seeds_staging_1.d = %(d_1)s::INTEGER)"
    )


@contextmanager
def recorded(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def online_writes(pairs: int) -> list[str]:
    """The writes (no staging or checks) of swapping the codes of ``pairs`` pairs of labels
    and re-keying one, recorded on an in-memory SQLite database."""
    engine = sa.create_engine("sqlite://")
    ranks_metadata.create_all(engine)
    labels = [{"id": f"L{i:03}", "code": f"c{i:03}", "title": "t"} for i in range(2 * pairs)]
    with engine.begin() as connection:
        apply_changes(
            connection, ranks_metadata, ChangeSet({"label": TableChanges(inserts=labels)})
        )
    swap = [
        RowUpdate({"id": f"L{i:03}"}, {"code": f"c{i:03}"}, {"code": f"c{i ^ 1:03}"})
        for i in range(2 * pairs)
    ]
    rekey = TableChanges(
        inserts=[{"id": "L999", "code": "c000", "title": "t"}],
        deletes=[{"id": "L000", "code": "c000", "title": "t"}],
        updates=swap[2:],
    )
    with recorded(engine) as statements, engine.begin() as connection:
        apply_changes(connection, ranks_metadata, ChangeSet({"label": rekey}))
    engine.dispose()
    return [s for s in statements if re.match(r"(UPDATE|DELETE FROM|INSERT INTO) label ", s)]


def test_online_parks_then_inserts_and_updates_then_deletes_whatever_the_number_of_rows() -> None:
    few, many = online_writes(2), online_writes(20)
    assert [s.split(" SET ")[0].split(" WHERE ")[0][:20] for s in few] == [
        "UPDATE label",  # the updated rows step aside
        "UPDATE label",  # the deleted row steps aside
        "INSERT INTO label (i",
        "UPDATE label",  # the updates, final values
        "DELETE FROM label",
    ]
    assert "char(31)" in few[0] and "char(31)" in few[1]
    assert len(many) == len(few)


def test_online_rekey_is_one_statement_on_mysql_whatever_the_number_of_rows() -> None:
    metadata = sa.MetaData()
    sa.Table("node", metadata, sa.Column("id", sa.String(8), primary_key=True))
    sa.Table(
        "edge",
        metadata,
        sa.Column("id", sa.String(8), primary_key=True),
        sa.Column("a", sa.String(8), sa.ForeignKey("node.id"), nullable=False),
        sa.Column("b", sa.String(8), sa.ForeignKey("node.id"), nullable=False),
        sa.UniqueConstraint("a", "b"),
    )
    deletes = [{"id": f"OLD{i}", "a": f"n{i}", "b": "m"} for i in range(30)]
    inserts = [{"id": f"NEW{i}", "a": f"n{i}", "b": "m"} for i in range(30)]
    plan = build_plan(metadata, ChangeSet({"edge": TableChanges(inserts=inserts, deletes=deletes)}))
    for position in range(30):
        plan.table("edge").rekeys[(f"OLD{position}",)] = (f"NEW{position}",)
    statement = str(writes.rekey(plan.table("edge")).compile(dialect=MYSQL))
    assert statement.startswith("UPDATE edge SET id=CASE WHEN (edge.id = %s) THEN %s WHEN")
    assert statement.count("WHEN") == 30 and statement.count("UPDATE") == 1


# -- one implementation per dialect ----------------------------------------------------


def test_each_dialect_gets_its_own_implementation_and_others_the_default() -> None:

    assert type(impl_for(POSTGRESQL)) is PostgresqlImpl
    assert type(impl_for(sa.create_engine("sqlite://").dialect)) is SqliteImpl
    assert type(impl_for(MYSQL)) is MysqlImpl
    assert type(impl_for(make_url("mariadb+pymysql://").get_dialect()())) is MariadbImpl
    # No module of its own: the dialect-neutral default.
    oracle = make_url("oracle://").get_dialect()()
    assert type(impl_for(oracle)) is ApplyImpl

    class Registered(ApplyImpl):
        __dialect__ = "oracle"

    try:
        assert type(impl_for(oracle)) is Registered
    finally:
        del dialect_module._IMPLS["oracle"]


def test_the_default_implementation_fills_a_table_with_one_executemany() -> None:

    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    table = sa.Table(
        "t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", sa.Text)
    )
    metadata.create_all(engine)
    with recorded(engine) as statements, engine.begin() as connection:
        count = ApplyImpl(engine.dialect).fill(connection, table, iter([(1, "a"), (2, "100%")]))
        assert connection.execute(sa.select(table)).all() == [(1, "a"), (2, "100%")]
    assert count == 2
    assert statements[0] == "INSERT INTO t (id, s) VALUES (?, ?)"
    engine.dispose()
