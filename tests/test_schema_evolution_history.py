"""The catalogue's history written step by step as a person writes it (``tests/evolving.py``):
what ``seeds revision --autogenerate`` makes right after each schema change, and what replay
says when the history is written wrong. No database, but for the hook of ``alembic
revision --autogenerate`` and a rebuild on SQLite.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.changes.changeset import ChangeSet, RowUpdate, TableChanges
from alembic_seeds.commands import check
from alembic_seeds.dataset.load import primary_keys
from alembic_seeds.errors import ApplyError, ReplayError
from alembic_seeds.migration.autogenerate import autogenerate, pending_changes
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.replay import data_of, replay_branch, replay_under
from tests.databases import engine_for, sqlite_file_url
from tests.evolving import (
    EVOLVING,
    HISTORY,
    Seeddata,
    Step,
    schema_file,
    set_stage,
    start,
    take_step,
    write_seeddata,
)


def project(root: Path) -> SeedsProject:
    config = Config(str(root / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return SeedsProject.from_config(config)


def frozen_changes() -> dict[str, ChangeSet]:
    scripts = ScriptDirectory.from_config(Config(str(EVOLVING / "alembic.ini")))
    found = {}
    for script in scripts.walk_revisions():
        data = data_of(script)
        if data is not None:
            found[script.revision] = data.change_set()
    return found


def renamed(seeddata: Seeddata, stage: str) -> Seeddata:
    """``seeddata`` in the names of the models of ``stage``: the person renames the field
    when the column is renamed."""
    if stage not in ("author_renamed", "awards", "ebook"):
        return seeddata
    return {
        name: [
            {("author" if key == "author_name" else key): value for key, value in obj.items()}
            for obj in objects
        ]
        for name, objects in seeddata.items()
    }


def steps_until(revision: str) -> list[Step]:
    index = next(i for i, step in enumerate(HISTORY) if step.revision == revision)
    return list(HISTORY[: index + 1])


def build(root: Path, steps: list[Step]) -> Path:
    start(root)
    for step in steps:
        take_step(root, step)
    return root


def test_the_history_as_a_person_writes_it(tmp_path: Path) -> None:
    root = start(tmp_path / "catalogue")
    frozen = frozen_changes()
    written: Seeddata | None = None
    for step in HISTORY:
        generated = take_step(root, step)
        if step.kind == "schema":
            if written is not None:
                # Right after the schema change, seeddata/ as it was (a renamed field
                # renamed) holds no change: a new column is null, a dropped one's values
                # are not deleted data, a rename moves them, a new table or label is empty.
                write_seeddata(root, renamed(written, step.stage))
                assert autogenerate(project(root), "nothing") is None, step.revision
            continue
        assert generated is not None, step.revision
        assert generated.changes.checksum() == frozen[step.revision].checksum(), step.revision
        written = step.seeddata
    assert check(project(root)).exit_code == 0


def updates(changes: ChangeSet, table: str) -> list[RowUpdate]:
    return list(changes.tables[table].updates)


def test_a_new_column_is_filled_by_updates_and_a_dropped_one_emptied_by_updates() -> None:
    frozen = frozen_changes()
    pages = updates(frozen["da0000000002"], "book")
    assert [(u.key["id"], u.before, u.after) for u in pages] == [
        ("B1", {"pages": None}, {"pages": 320}),
        ("B2", {"pages": None}, {"pages": 210}),
        ("B3", {"pages": None}, {"pages": 180}),
    ]
    emptied = updates(frozen["da0000000004"], "book")
    assert {u.key["id"]: (u.before, u.after) for u in emptied} == {
        "B1": ({"shelf_code": "F-12"}, {"shelf_code": None}),
        "B2": ({"shelf_code": "S-03"}, {"shelf_code": None}),
        "B3": ({"shelf_code": "F-40"}, {"shelf_code": None}),
        "B4": ({"shelf_code": "S-07"}, {"shelf_code": None}),
    }
    renamed_author = updates(frozen["da0000000005"], "book")
    assert [(u.key, u.before, u.after) for u in renamed_author] == [
        ({"id": "B3"}, {"author": "Ann Lee"}, {"author": "Ann Lee-Hart"})
    ]


# -- the hook of alembic revision --autogenerate ---------------------------------------


def test_a_schema_revision_that_drops_a_seeded_column_depends_on_the_data_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000004"))
    url = sqlite_file_url(tmp_path / "catalogue.db")
    monkeypatch.setenv("DATABASE_URL", url)
    command.upgrade(project(root).config, "heads")
    set_stage(root, "shelf_dropped")
    config = project(root).config
    command.revision(
        config, "no shelf codes", autogenerate=True, head="schema@head", rev_id="5cd000000004"
    )
    text = next((root / "migrations" / "versions").glob("5cd000000004_*.py")).read_text("utf-8")
    assert "batch_op.drop_column('shelf_code')" in text
    assert "depends_on: str | Sequence[str] | None = 'da0000000004'" in text
    # It runs after the data revision that emptied the column, and goes back before it.
    command.upgrade(config, "heads")
    command.downgrade(config, "da0000000004-1")
    assert check(project(root)).exit_code == 0


def test_a_schema_revision_that_only_adds_depends_on_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000005"))
    monkeypatch.setenv("DATABASE_URL", sqlite_file_url(tmp_path / "catalogue.db"))
    command.upgrade(project(root).config, "heads")
    set_stage(root, "awards")
    config = project(root).config
    command.revision(config, "awards", autogenerate=True, head="schema@head", rev_id="5cd000000006")
    text = next((root / "migrations" / "versions").glob("5cd000000006_*.py")).read_text("utf-8")
    assert "op.create_table('award'" in text
    assert "depends_on: str | Sequence[str] | None = None" in text


# -- histories written wrong -----------------------------------------------------------


def variant(root: Path, revision: str, old: str, new: str) -> None:
    """Write schema revision ``revision`` into ``root`` with ``old`` replaced by ``new``."""
    text = schema_file(revision).read_text(encoding="utf-8")
    assert old in text, (revision, old)
    target = root / "migrations" / "versions" / schema_file(revision).name
    target.write_text(text.replace(old, new), encoding="utf-8")


def replay_error(root: Path) -> str:
    """Why the history of ``root`` does not replay (seeddata/ aside)."""
    seeds = project(root)
    scripts = ScriptDirectory.from_config(seeds.config)
    keys = primary_keys(seeds.metadata, seeds.spec.tables())
    with pytest.raises(ReplayError) as raised:
        replay_branch(scripts, seeds.branch, keys, seeds.metadata)
    return str(raised.value)


def test_a_drop_that_does_not_depend_on_the_revisions_that_wrote_the_column(
    tmp_path: Path,
) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000004"))
    set_stage(root, "shelf_dropped")
    variant(root, "5c0000000004", 'None = "da0000000004"', "None = None")
    assert replay_error(root) == (
        "schema revision 5c0000000004 drops book.shelf_code, which data revision "
        "da0000000003 writes, but does not depend on it: `alembic upgrade` may run it before "
        "da0000000003 (which then fails), and `alembic upgrade seeds@head` may run "
        "da0000000003 after it; add 'da0000000003' to the depends_on of 5c0000000004"
    )
    outcome = check(project(root))
    assert outcome.exit_code == 2
    assert (
        outcome.error is not None and "do not replay: schema revision 5c0000000004" in outcome.error
    )


def test_not_null_before_a_data_revision_fills_the_column(tmp_path: Path) -> None:
    root = build(tmp_path / "catalogue", steps_until("5c0000000002"))
    set_stage(root, "pages_required")
    variant(root, "5c0000000003", 'None = "da0000000002"', 'None = "da0000000001"')
    message = replay_error(root)
    assert message.startswith(
        "schema revision 5c0000000003 makes book.pages NOT NULL, but 3 seeded row(s) hold no "
        "value there at that point ('B1', 'B2', 'B3'): a data revision that fills them must "
        "come first"
    )


def copy_of_the_catalogue(root: Path) -> Path:
    shutil.copytree(EVOLVING, root, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    return root


def add_data_revision(root: Path, revision: str, down_revision: str, changes: str) -> None:
    """A data revision written by hand, holding ``changes`` (a Python literal)."""
    (root / "data_migrations" / "versions" / f"{revision}_by_hand.py").write_text(
        f'"""written by hand"""\n\nfrom alembic_seeds import DataRevision\n\n'
        f"revision = {revision!r}\ndown_revision = {down_revision!r}\n"
        "branch_labels = None\ndepends_on = None\n\n"
        f"CHANGES = {changes}\ndata = DataRevision(revision, __file__, changes=CHANGES)\n\n\n"
        "def upgrade() -> None:\n    data.upgrade()\n\n\n"
        "def downgrade() -> None:\n    data.downgrade()\n",
        encoding="utf-8",
    )


def add_schema_revision(
    root: Path, revision: str, down_revision: str, depends_on: str, upgrade: str
) -> None:
    """A schema revision written by hand whose ``upgrade()`` is ``upgrade`` (one line)."""
    (root / "migrations" / "versions" / f"{revision}_by_hand.py").write_text(
        '"""written by hand"""\n\nfrom alembic import op\n\nimport alembic_seeds\n\n'
        f"revision = {revision!r}\ndown_revision = {down_revision!r}\n"
        f"branch_labels = None\ndepends_on = {depends_on!r}\n\n\n"
        f"def upgrade() -> None:\n    {upgrade}\n\n\n"
        "def downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )


def test_an_old_revision_that_writes_a_dropped_column_after_the_drop(tmp_path: Path) -> None:
    root = copy_of_the_catalogue(tmp_path / "catalogue")
    add_data_revision(
        root,
        "da00000000ff",
        "da0000000007",
        '{"book": {"updates": [{"key": {"id": "B1"}, "before": {"shelf_code": None},'
        ' "after": {"shelf_code": "F-1"}}]}}',
    )
    assert replay_error(root) == (
        "data revision da00000000ff writes the column book.shelf_code, which is not there at "
        "its point of the history (schema revision 5c0000000004 drops it): a data revision "
        "depends_on the schema revisions it was written for, and a schema revision that "
        "drops or renames what data revisions wrote depends_on them"
    )


def test_a_renamed_table_keeps_its_rows_and_its_old_name_is_gone(tmp_path: Path) -> None:
    root = copy_of_the_catalogue(tmp_path / "catalogue")
    add_schema_revision(
        root, "5c00000000ee", "5c0000000007", "da0000000007", 'op.rename_table("award", "prize")'
    )
    seeds = project(root)
    scripts = ScriptDirectory.from_config(seeds.config)
    keys = primary_keys(seeds.metadata, seeds.spec.tables())
    state = replay_under(scripts, ["5c00000000ee"], keys).state
    assert "award" not in state
    assert sorted(state["prize"]) == [("A1",), ("A3",)]
    add_data_revision(
        root,
        "da00000000ee",
        "da0000000007",
        '{"award": {"inserts": [{"id": "A4", "book_id": "B2", "name": "x", "year": None}]}}',
    )
    (root / "data_migrations" / "versions" / "da00000000ee_by_hand.py").write_text(
        (root / "data_migrations" / "versions" / "da00000000ee_by_hand.py")
        .read_text(encoding="utf-8")
        .replace("depends_on = None", 'depends_on = "5c00000000ee"'),
        encoding="utf-8",
    )
    with pytest.raises(ReplayError) as raised:
        replay_under(scripts_of(root), ["da00000000ee"], keys)
    assert str(raised.value).startswith(
        "data revision da00000000ee writes the table award, which is not there at its point of "
        "the history (schema revision 5c00000000ee renames it to prize)"
    )


def test_a_table_nothing_creates(tmp_path: Path) -> None:
    root = copy_of_the_catalogue(tmp_path / "catalogue")
    add_data_revision(root, "da00000000dd", "da0000000007", '{"shelf": {"inserts": [{"id": "S"}]}}')
    with pytest.raises(ReplayError, match="writes table shelf, which neither the models nor"):
        replay_under(scripts_of(root), ["da00000000dd"], {})


def scripts_of(root: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(project(root).config)


def test_dropping_a_column_that_still_holds_seeded_values_fails_the_check(
    tmp_path: Path,
) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000003"))
    set_stage(root, "shelf_dropped")
    variant(root, "5c0000000004", 'None = "da0000000004"', 'None = "da0000000003"')
    write_seeddata(root, next(s for s in HISTORY if s.revision == "da0000000004").seeddata)
    outcome = check(project(root))
    assert outcome.exit_code == 1
    assert (
        "schema revision 5c0000000004 drops the column book.shelf_code while 4 seeded row(s) "
        "hold values there: a downgrade past it cannot bring them back"
    ) in outcome.output
    assert "check failed: schema revisions drop seeded values" in outcome.output


def test_a_not_null_column_without_default_under_seeded_rows(tmp_path: Path) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000001"))
    set_stage(root, "pages")
    variant(root, "5c0000000002", "nullable=True", "nullable=False")
    variant_depends(root, "5c0000000002", "da0000000001")
    assert replay_error(root).startswith(
        "schema revision 5c0000000002 adds book.pages NOT NULL without a default, while 3 "
        "seeded row(s) are there (the database refuses it)"
    )


def variant_depends(root: Path, revision: str, depends_on: str) -> None:
    path = root / "migrations" / "versions" / schema_file(revision).name
    text = re.sub(
        r"^depends_on: (.*) = .*$",
        rf'depends_on: \1 = "{depends_on}"',
        path.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    path.write_text(text, encoding="utf-8")


def test_a_server_default_gives_the_rows_its_value(tmp_path: Path) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000001"))
    set_stage(root, "pages")
    variant(root, "5c0000000002", "nullable=True", "nullable=False, server_default='100'")
    variant_depends(root, "5c0000000002", "da0000000001")
    books = pending_changes(project(root)).current["book"]
    assert {row["pages"] for row in books.values()} == {100}


def test_a_server_default_replay_cannot_evaluate(tmp_path: Path) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000001"))
    set_stage(root, "pages")
    variant(root, "5c0000000002", "nullable=True", "server_default=sa.text('random()')")
    variant_depends(root, "5c0000000002", "da0000000001")
    assert replay_error(root).startswith(
        "schema revision 5c0000000002 adds book.pages with a server default that replay "
        "cannot evaluate (random()), while 3 seeded row(s) are there"
    )


def test_a_schema_revision_that_reads_the_database(tmp_path: Path) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000001"))
    variant(
        root,
        "5c0000000002",
        "    op.add_column(",
        "    op.get_bind().execute(sa.text('SELECT 1')).scalar()\n    op.add_column(",
    )
    assert replay_error(root).startswith(
        "schema revision 5c0000000002: its upgrade() cannot be followed without a database"
    )


def test_a_rename_written_as_sql_is_named(tmp_path: Path) -> None:
    root = build(tmp_path / "catalogue", steps_until("5c0000000004"))
    set_stage(root, "author_renamed")
    variant(
        root,
        "5c0000000005",
        """op.alter_column(
        "book", "author_name", new_column_name="author", existing_type=TEXT, existing_nullable=False
    )""",
        'op.execute("ALTER TABLE book RENAME COLUMN author_name TO author")',
    )
    assert replay_error(root).startswith(
        "the data revisions leave columns author_name of book, which the models do not have: "
        "a schema revision drops or renames them in a way replay cannot follow"
    )
    assert "5c0000000005: ALTER TABLE book RENAME COLUMN author_name TO author" in replay_error(
        root
    )
    # A data revision written for the new name then names what replay missed.
    (frozen,) = (EVOLVING / "data_migrations" / "versions").glob("da0000000005_*.py")
    shutil.copy(frozen, root / "data_migrations" / "versions")
    assert replay_error(root).startswith(
        "data revision da0000000005 writes the column book.author, which is not there at its "
        "point of the history (no schema revision before it adds it; replay cannot follow SQL "
        "given as text: 5c0000000005: ALTER TABLE book RENAME COLUMN author_name TO author)"
    )


# -- online ----------------------------------------------------------------------------


def test_a_data_revision_before_its_schema_is_refused_by_name(tmp_path: Path) -> None:
    root = build(tmp_path / "catalogue", steps_until("da0000000001"))
    url = sqlite_file_url(tmp_path / "catalogue.db")
    config = project(root).config
    config.attributes["configure_logger"] = False
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DATABASE_URL", url)
        command.upgrade(config, "heads")
    # A change set naming a column the table does not have yet, and a table it lacks.
    changes = ChangeSet(
        {
            "book": TableChanges(updates=[RowUpdate({"id": "B1"}, {"pages": None}, {"pages": 1})]),
            "award": TableChanges(inserts=[{"id": "A1", "book_id": "B1", "name": "x"}]),
        }
    )
    engine = engine_for(url)
    try:
        with engine.begin() as connection, pytest.raises(ApplyError) as raised:
            apply_changes(connection, project(root).metadata, changes)
    finally:
        engine.dispose()
    assert str(raised.value).startswith(
        "the database has no column book.pages, table award, which the revision writes"
    )
    engine = engine_for(url)
    try:
        with engine.connect() as connection, pytest.raises(ApplyError, match="no table award"):
            read_dataset(connection, project(root).metadata, ["book", "award"])
    finally:
        engine.dispose()


def test_a_rebuild_that_breaks_a_reference_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_of_the_catalogue(tmp_path / "catalogue")
    add_schema_revision(
        root,
        "5c00000000ff",
        "5c0000000007",
        "da0000000007",
        "with alembic_seeds.table_rebuild(): op.execute(\"DELETE FROM genre WHERE id = 'G1'\")",
    )
    url = sqlite_file_url(tmp_path / "catalogue.db")
    monkeypatch.setenv("DATABASE_URL", url)
    config = project(root).config
    command.upgrade(config, "da0000000007")
    with pytest.raises(CommandError, match=r"leave 2 reference\(s\) that do not hold \(book row"):
        command.upgrade(config, "heads")
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            genres = connection.execute(sa.text("SELECT id FROM genre ORDER BY id")).scalars()
            assert list(genres) == ["G1", "G2"]
    finally:
        engine.dispose()
