"""Unique values that change hands within one revision (the ``ranks`` fixture project, plain
constraints, nothing DEFERRABLE): two rows swap a text, a number or a nullable value, and
rows are re-keyed (same content, new id) while other rows refer to them. Each applies in one
revision, up and down, online and as offline SQL run with the client; the rows that step
aside hold their temporary values only inside the revision's transaction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.apply.parking import MARKER
from alembic_seeds.changes.changeset import ChangeSet, RowUpdate, TableChanges
from alembic_seeds.errors import ApplyError
from tests.databases import TEXT, engine_for
from tests.scratch import counts, dump, make_scratch
from tests.small_projects import SmallProject, run_sql, small_project

SCHEMA, FIRST, SWAP, REKEY = "a11c00000001", "a11c00000002", "a11c00000003", "a11c00000004"
#: The Translation id of the Open University's name in the Lumina copy.
OPEN_UNIVERSITY_NAME = "fa6eb564-ad2c-480c-9086-82a4fd474b0a"


@pytest.fixture
def ranks(db_url: str, monkeypatch: pytest.MonkeyPatch) -> SmallProject:
    return small_project("ranks", db_url, monkeypatch)


def column(project: SmallProject, table: str, name: str) -> dict[str, object]:
    return {key[0]: row[name] for key, row in project.content()[table].items()}


def assert_no_parked_values(project: SmallProject) -> None:
    for table, rows in project.content().items():
        for row in rows.values():
            for value in row.values():
                assert not (isinstance(value, str) and value.startswith(MARKER)), (table, row)


def test_swaps_and_rekeys_apply_up_and_down(ranks: SmallProject) -> None:
    ranks.upgrade(FIRST)
    first = ranks.content()

    ranks.upgrade(SWAP)
    assert column(ranks, "label", "code") == {"L1": "beta", "L2": "alpha", "L3": "gamma"}
    assert column(ranks, "item", "position") == {"I1": 2, "I2": 1, "I3": 1}
    assert column(ranks, "item", "note") == {"I1": "second", "I2": "first", "I3": None}
    swapped = ranks.content()

    ranks.upgrade(REKEY)
    assert column(ranks, "label", "code") == {"L1": "beta", "L2": "alpha", "L9": "gamma"}
    assert column(ranks, "pairing", "right_id") == {"P2": "L9", "P8": "L2"}
    assert set(ranks.content()["pairing_tag"]) == {("P8", "x"), ("P8", "y")}
    assert column(ranks, "item", "position") == {"I1": 2, "I2": 1, "I9": 1}
    assert_no_parked_values(ranks)

    ranks.downgrade(SWAP)
    assert ranks.content() == swapped
    ranks.downgrade(FIRST)
    assert ranks.content() == first
    assert [(e.revision, e.direction) for e in ranks.log()][-2:] == [
        (REKEY, "downgrade"),
        (SWAP, "downgrade"),
    ]


def test_offline_sql_of_swaps_and_rekeys_runs_with_the_client_and_equals_online(
    ranks: SmallProject, second_db_url: str, tmp_path: Path
) -> None:
    online = ranks.at(second_db_url)
    run_sql(ranks.url, ranks.sql("head"), tmp_path / "up.sql")
    online.upgrade("head")
    assert ranks.content() == online.content()
    assert_no_parked_values(ranks)
    run_sql(ranks.url, ranks.sql(f"{REKEY}:{FIRST}", down=True), tmp_path / "down.sql")
    online.downgrade(FIRST)
    assert ranks.content() == online.content()


# -- what no order of plain statements resolves ------------------------------------------


def pairings_metadata() -> tuple[sa.MetaData, sa.Table, sa.Table]:
    metadata = sa.MetaData()
    sa.Table("person", metadata, sa.Column("id", TEXT, primary_key=True))
    pairing = sa.Table(
        "pairing",
        metadata,
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("left_id", TEXT, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("right_id", TEXT, sa.ForeignKey("person.id"), nullable=False),
        sa.UniqueConstraint("left_id", "right_id"),
    )
    remark = sa.Table(
        "remark",
        metadata,
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("pairing_id", TEXT, sa.ForeignKey("pairing.id"), nullable=False),
    )
    return metadata, pairing, remark


def seeded(url: str, metadata: sa.MetaData) -> sa.Engine:
    engine = engine_for(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        apply_changes(
            connection,
            metadata,
            ChangeSet(
                {
                    "person": TableChanges(inserts=[{"id": p} for p in ("a", "b", "c")]),
                    "pairing": TableChanges(
                        inserts=[
                            {"id": "P1", "left_id": "a", "right_id": "b"},
                            {"id": "P2", "left_id": "b", "right_id": "c"},
                        ]
                    ),
                    "remark": TableChanges(inserts=[{"id": "R1", "pairing_id": "P1"}]),
                }
            ),
        )
    return engine


def test_a_swap_of_foreign_key_values_under_a_unique_constraint_is_refused(db_url: str) -> None:
    """No column of (left_id, right_id) can hold a temporary value: refused before writing,
    naming both rows, on every backend."""
    metadata, pairing, _remark = pairings_metadata()
    engine = seeded(db_url, metadata)
    swap = ChangeSet(
        {
            "pairing": TableChanges(
                updates=[
                    RowUpdate(
                        {"id": "P1"},
                        {"left_id": "a", "right_id": "b"},
                        {"left_id": "b", "right_id": "c"},
                    ),
                    RowUpdate(
                        {"id": "P2"},
                        {"left_id": "b", "right_id": "c"},
                        {"left_id": "a", "right_id": "b"},
                    ),
                ]
            )
        }
    )
    try:
        with pytest.raises(ApplyError) as raised, engine.begin() as connection:
            apply_changes(connection, metadata, swap, context="data revision x (upgrade)")
        message = str(raised.value)
        assert message.startswith("data revision x (upgrade): 2 change(s) cannot be ordered")
        assert "pairing id='P1': update" in message and "pairing id='P2': update" in message
        assert "pairing (left_id, right_id)" in message
        assert "nothing was written" in message
        with engine.connect() as connection:
            assert sorted(connection.execute(sa.select(pairing)).all()) == [
                ("P1", "a", "b"),
                ("P2", "b", "c"),
            ]
    finally:
        engine.dispose()


def test_a_rekey_whose_old_row_is_referred_to_until_updated(db_url: str) -> None:
    """P1 becomes P8 (same people), and a remark moves from P1 to P8: P1 can neither step
    aside nor go first. SQLite defers its foreign keys for it; PostgreSQL with a plain
    unique constraint refuses it before writing anything."""
    metadata, pairing, remark = pairings_metadata()
    engine = seeded(db_url, metadata)
    rekey = ChangeSet(
        {
            "pairing": TableChanges(
                inserts=[{"id": "P8", "left_id": "a", "right_id": "b"}],
                deletes=[{"id": "P1", "left_id": "a", "right_id": "b"}],
            ),
            "remark": TableChanges(
                updates=[RowUpdate({"id": "R1"}, {"pairing_id": "P1"}, {"pairing_id": "P8"})]
            ),
        }
    )
    try:
        if engine.dialect.name == "sqlite":
            with engine.begin() as connection:
                apply_changes(connection, metadata, rekey)
            with engine.connect() as connection:
                assert sorted(connection.execute(sa.select(pairing.c.id)).scalars()) == ["P2", "P8"]
                assert connection.execute(sa.select(remark.c.pairing_id)).scalar_one() == "P8"
            return
        refused = r"pairing id='P1': delete: .* remark id='R1' refers"
        with pytest.raises(ApplyError, match=refused), engine.begin() as connection:
            apply_changes(connection, metadata, rekey)
        with engine.connect() as connection:
            assert sorted(connection.execute(sa.select(pairing.c.id)).scalars()) == ["P1", "P2"]
    finally:
        engine.dispose()


def test_rekeying_a_text_of_the_lumina_copy_applies_up_and_down(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A university's name gets a new Translation id, same texts: the new row takes the
    unique (en_text, he_text) of the old one, which the university refers to until it is
    updated. PostgreSQL defers the DEFERRABLE constraint of that project; SQLite parks the
    old row's English text."""
    scratch = make_scratch(tmp_path, db_url, monkeypatch)
    scratch.upgrade("heads")
    before = scratch.content()
    new_id = "fa6eb564-ad2c-480c-9086-000000000000"
    scratch.edit(
        "institutions/universities.jsonl",
        lambda obj: obj["name"]["id"] == OPEN_UNIVERSITY_NAME,
        lambda obj: obj["name"].update(id=new_id),
    )
    generated = scratch.generate("re-key the Open University's name")
    assert counts(generated.changes) == {"Translation": (1, 0, 1), "University": (0, 1, 0)}
    scratch.upgrade()
    assert dump(scratch.content()) == dump(scratch.expected())
    assert (new_id,) in scratch.content()["Translation"]
    scratch.downgrade()
    assert dump(scratch.content()) == dump(before)


def test_skip_refuses_to_leave_a_row_whose_unique_values_another_row_takes(
    ranks: SmallProject,
) -> None:
    """L3 was edited by hand; skip would leave it, but L9 takes its code: refused, with
    nothing written; overwrite applies the revision."""
    ranks.upgrade(SWAP)
    ranks.execute("UPDATE label SET title = 'hand edit' WHERE id = 'L3'")
    before = ranks.content()
    with pytest.raises(Exception, match="seeds_drift=skip would leave 1 row") as raised:
        ranks.upgrade(REKEY, drift="skip")
    assert "label id='L3' (delete)" in str(raised.value)
    assert "nothing was written" in str(raised.value)
    assert ranks.content() == before
    ranks.upgrade(REKEY, drift="overwrite")
    assert column(ranks, "label", "code") == {"L1": "beta", "L2": "alpha", "L9": "gamma"}
