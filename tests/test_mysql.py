"""What MySQL and MariaDB do differently, each fed to the engine on a real server: collations
that would merge distinct ids (refused before any write), texts in utf8mb4 (Hebrew, symbols,
emoji) and ids that differ only in case or trailing spaces, the empty-string id, enums as
ENUM columns, the named lock (its holder named, a bounded wait, never two holders), a
re-key that only an update of the key can write (no deferrable constraints), online and
offline.

Re-keys and swaps, offline SQL through the ``mariadb`` client, drift and the README's
commands run on MySQL through the ``db_url`` fixture with the other backends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from alembic_seeds.apply.dialect import impl_for
from alembic_seeds.apply.drift import DriftPolicy
from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.apply.offline import compile_offline, offline_statements
from alembic_seeds.changes.changeset import ChangeSet, RowUpdate, TableChanges
from alembic_seeds.errors import ApplyError, LockTimeout
from alembic_seeds.migration.dialects.mysql import DIALECT, MAX_LOCK_NAME, lock_name
from tests.databases import TEXT, alembic_config, engine_for, run_alembic
from tests.scratch import versions_applied
from tests.small_projects import run_sql

#: Distinct ids that a case-insensitive or PAD SPACE collation would take for one.
DISTINCT_IDS = ("abc", "ABC", "abc ", "", " ")
#: Texts that need utf8mb4 (and a carriage return, a tab, a backslash, quotes).
TEXTS = ("שלום עולם", "∀x ∈ ℝ: x² ≥ 0", "🦉📚 emoji", "tab\tcr\r\nback\\slash '\"")  # noqa: RUF001


@pytest.fixture
def connection(mysql_url: str) -> Iterator[Connection]:
    engine = engine_for(mysql_url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _table(metadata: sa.MetaData, key_type: sa.types.TypeEngine[str]) -> sa.Table:
    return sa.Table(
        "word",
        metadata,
        sa.Column("id", key_type, primary_key=True),
        sa.Column("text", TEXT, nullable=False),
    )


def test_a_key_column_whose_collation_merges_ids_is_refused_before_any_write(
    connection: Connection,
) -> None:
    metadata = sa.MetaData()
    # The server's default collation (utf8mb4_general_ci): 'abc' and 'ABC' are one key.
    table = _table(metadata, sa.String(32))
    metadata.create_all(connection)
    connection.commit()
    changes = ChangeSet({"word": TableChanges(inserts=[{"id": "abc", "text": "one"}])})
    with pytest.raises(ApplyError) as raised:
        apply_changes(connection, metadata, changes)
    message = str(raised.value)
    assert "\n" not in message
    assert re.search(
        r"table word, column id: collation utf8mb4_\w+_ci ignores case or trailing spaces.*"
        r"needs utf8mb4_nopad_bin",
        message,
    ), message
    connection.rollback()
    assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0


def test_a_text_column_in_utf8mb3_is_refused(connection: Connection) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "word",
        metadata,
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("text", sa.Text(collation="utf8mb3_general_ci"), nullable=False),
    )
    metadata.create_all(connection)
    connection.commit()
    changes = ChangeSet({"word": TableChanges(inserts=[{"id": "a", "text": "🦉"}])})
    with pytest.raises(ApplyError, match=r"table word, column text: character set utf8mb3"):
        apply_changes(connection, metadata, changes)


def test_ids_that_differ_in_case_or_trailing_spaces_and_utf8mb4_texts_round_trip(
    connection: Connection,
) -> None:
    metadata = sa.MetaData()
    table = _table(metadata, TEXT)
    metadata.create_all(connection)
    connection.commit()
    rows = [
        {"id": key, "text": TEXTS[position % len(TEXTS)]}
        for position, key in enumerate(DISTINCT_IDS)
    ]
    with connection.begin():
        report = apply_changes(connection, metadata, ChangeSet({"word": TableChanges(rows)}))
    assert report.total().inserted == len(DISTINCT_IDS)
    stored = {row.id: row.text for row in connection.execute(sa.select(table))}
    connection.rollback()
    assert stored == {row["id"]: row["text"] for row in rows}
    # A second apply of the same rows adopts them all: '' meets '', never ' '.
    with connection.begin():
        again = apply_changes(connection, metadata, ChangeSet({"word": TableChanges(rows)}))
    assert (again.total().inserted, again.total().unchanged) == (0, len(DISTINCT_IDS))
    # An update of 'abc' leaves 'ABC' and 'abc ' alone.
    update = TableChanges(updates=[_update("abc", rows[0]["text"], "changed")])
    with connection.begin():
        apply_changes(connection, metadata, ChangeSet({"word": update}))
    stored = {row.id: row.text for row in connection.execute(sa.select(table))}
    assert stored == {**{row["id"]: row["text"] for row in rows}, "abc": "changed"}


def _update(key: str, before: str, after: str) -> RowUpdate:
    return RowUpdate({"id": key}, {"text": before}, {"text": after})


def test_enums_are_enum_columns(alembic_mysql: Config, mysql_url: str) -> None:
    command.upgrade(alembic_mysql, "schema@head")
    engine = engine_for(mysql_url)
    try:
        with engine.connect() as connection:
            column_type = connection.execute(
                sa.text(
                    "SELECT COLUMN_TYPE FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'Question'"
                    " AND COLUMN_NAME = 'type'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert column_type == "enum('selection','value','void')"


@pytest.fixture
def alembic_mysql(mysql_url: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("DATABASE_URL", mysql_url)
    return alembic_config()


def test_the_lock_is_one_per_database_waits_boundedly_and_names_its_holder(
    mysql_url: str,
) -> None:
    lock = DIALECT.lock
    assert lock is not None
    engine = engine_for(mysql_url)
    try:
        with engine.connect() as holder, engine.connect() as waiter:
            lock.acquire(holder, wait_seconds=1)
            holder_id = holder.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
            with pytest.raises(LockTimeout) as raised:
                lock.acquire(waiter, wait_seconds=0.5)
            message = str(raised.value)
            assert f"connection {holder_id} (root" in message, message
            assert "gave up after 0.5 s, nothing was written" in message
            lock.release(holder)
            lock.acquire(waiter, wait_seconds=1)
            assert not lock.try_acquire(holder)
            lock.release(waiter)
    finally:
        engine.dispose()


def test_lock_names_fit_get_lock_and_differ_per_database() -> None:
    long = "d" * 64
    assert len(lock_name(long)) <= MAX_LOCK_NAME
    assert lock_name(long) != lock_name(long[:-1] + "e")
    assert lock_name("a") != lock_name("b")


def test_a_failed_schema_revision_says_what_it_leaves(mysql_url: str) -> None:
    """MySQL commits each DDL statement: the tables created before the failure stay, and the
    FAILED line says so rather than "nothing was written"."""
    engine = engine_for(mysql_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE University (id INT PRIMARY KEY)"))
        done = run_alembic(["upgrade", "schema@head"], mysql_url)
        assert done.returncode != 0
        failed = [line for line in done.stderr.splitlines() if "e89b5885e764 (upgrade)" in line]
        assert failed, done.stderr
        assert "already exists" in failed[0]
        assert "of a schema revision the DDL statements before the failure stay" in failed[0]
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert "Translation" in tables
        assert "alembic_version" not in tables or versions_applied(mysql_url) == set()
    finally:
        engine.dispose()


def _rekey_tables(onupdate: str | None) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    """An edge between two nodes, unique per pair of nodes (columns that are foreign keys,
    so no value can park there), and a note that refers to the edge."""
    metadata = sa.MetaData()
    node = sa.Table("node", metadata, sa.Column("id", TEXT, primary_key=True))
    edge = sa.Table(
        "edge",
        metadata,
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("a", TEXT, sa.ForeignKey("node.id"), nullable=False),
        sa.Column("b", TEXT, sa.ForeignKey("node.id"), nullable=False),
        sa.UniqueConstraint("a", "b"),
    )
    note = sa.Table(
        "note",
        metadata,
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("edge_id", TEXT, sa.ForeignKey("edge.id", onupdate=onupdate), nullable=False),
    )
    del node
    return metadata, edge, note


REKEY = ChangeSet(
    {
        "edge": TableChanges(
            inserts=[{"id": "NEW", "a": "n1", "b": "n2"}],
            deletes=[{"id": "OLD", "a": "n1", "b": "n2"}],
        ),
        "note": TableChanges(
            updates=[RowUpdate({"id": "x"}, {"edge_id": "OLD"}, {"edge_id": "NEW"})]
        ),
    }
)


def _seed_rekey(connection: Connection, metadata: sa.MetaData) -> None:
    metadata.create_all(connection)
    first = ChangeSet(
        {
            "node": TableChanges(inserts=[{"id": "n1"}, {"id": "n2"}]),
            "edge": TableChanges(inserts=[{"id": "OLD", "a": "n1", "b": "n2"}]),
            "note": TableChanges(inserts=[{"id": "x", "edge_id": "OLD"}]),
        }
    )
    apply_changes(connection, metadata, first)
    connection.commit()


def test_a_rekey_whose_referrers_cascade_applies_in_one_revision_with_foreign_keys_on(
    connection: Connection, mysql_url: str, tmp_path: Path
) -> None:
    metadata, edge, note = _rekey_tables("CASCADE")
    _seed_rekey(connection, metadata)
    assert connection.execute(sa.text("SELECT @@foreign_key_checks")).scalar_one() == 1
    connection.rollback()
    with connection.begin():
        report = apply_changes(connection, metadata, REKEY)
    assert connection.execute(sa.select(edge.c.id, edge.c.a, edge.c.b)).all() == [
        ("NEW", "n1", "n2")
    ]
    assert connection.execute(sa.select(note.c.edge_id)).scalars().all() == ["NEW"]
    counts = {table.table: (table.inserted, table.deleted) for table in report.tables}
    assert counts["edge"] == (1, 1)
    connection.rollback()
    # And back: the inverse is a re-key too.
    with connection.begin():
        apply_changes(connection, metadata, REKEY.inverse())
    assert connection.execute(sa.select(note.c.edge_id)).scalars().all() == ["OLD"]
    connection.rollback()
    # Offline, the same statements run with the mariadb client.
    impl = impl_for(connection.dialect)
    sql = "".join(
        f"{compile_offline(statement, impl)};\n"
        for statement in offline_statements(metadata, REKEY, impl)
    )
    run_sql(mysql_url, sql, tmp_path / "rekey.sql")
    assert connection.execute(sa.select(note.c.edge_id)).scalars().all() == ["NEW"]
    assert connection.execute(sa.select(edge.c.id)).scalars().all() == ["NEW"]


def test_a_rekey_whose_referrers_do_not_cascade_is_refused_before_any_write(
    connection: Connection,
) -> None:
    metadata, edge, _note = _rekey_tables(None)
    _seed_rekey(connection, metadata)
    refused = r"(?s)1 change\(s\) cannot be ordered.*edge id='OLD': delete"
    with pytest.raises(ApplyError, match=refused):
        apply_changes(connection, metadata, REKEY)
    connection.rollback()
    assert connection.execute(sa.select(edge.c.id)).scalars().all() == ["OLD"]


def test_a_collation_declared_for_the_table_is_the_staging_tables_too(
    connection: Connection,
) -> None:
    """Columns without a collation of their own take the table's; the staging columns take
    the target's as the database has it, or the two could not be compared."""
    metadata = sa.MetaData()
    table = sa.Table(
        "word",
        metadata,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    metadata.create_all(connection)
    connection.commit()
    rows = [{"id": "a", "text": "x"}, {"id": "A", "text": "y"}]
    with connection.begin():
        apply_changes(connection, metadata, ChangeSet({"word": TableChanges(inserts=rows)}))
    changes = TableChanges(
        inserts=[{"id": "a ", "text": "z"}],
        updates=[_update("A", "y", "Y")],
        deletes=[{"id": "a", "text": "x"}],
    )
    with connection.begin():
        apply_changes(connection, metadata, ChangeSet({"word": changes}))
    assert dict(connection.execute(sa.select(table.c.id, table.c.text)).all()) == {
        "A": "Y",
        "a ": "z",
    }


@pytest.mark.parametrize("policy", [DriftPolicy.SKIP, DriftPolicy.OVERWRITE])
def test_a_drifted_rekey_is_refused_under_skip_and_overwrite(
    connection: Connection, policy: DriftPolicy
) -> None:
    metadata, edge, note = _rekey_tables("CASCADE")
    _seed_rekey(connection, metadata)
    with connection.begin():
        connection.execute(metadata.tables["node"].insert().values(id="n3"))
        connection.execute(edge.update().where(edge.c.id == "OLD").values(b="n3"))
    with pytest.raises(ApplyError, match=r"edge id='OLD': changed in the database.*re-keys it"):
        apply_changes(connection, metadata, REKEY, policy)
    connection.rollback()
    assert connection.execute(sa.select(edge.c.id, edge.c.b)).all() == [("OLD", "n3")]
    assert connection.execute(sa.select(note.c.edge_id)).scalars().all() == ["OLD"]
