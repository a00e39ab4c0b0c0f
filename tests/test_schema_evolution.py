"""Schema revisions and data revisions in one history (the catalogue fixture project).

Its history, in the order ``alembic upgrade heads`` runs it (``tests/evolving.py``):

- 5c0000000001 the catalogue (genres, books with a shelf code and an ``author_name``)
- 5c0000000002 book.pages, nullable
- da0000000001 the first books (writes shelf_code and author_name, which the models lack)
- da0000000002 page counts (updates of pages)
- 5c0000000003 book.pages NOT NULL (depends on da0000000002)
- da0000000003 a fourth book, a revised title
- da0000000004 no more shelf codes (updates to null)
- 5c0000000004 drop book.shelf_code (depends on da0000000004)
- 5c0000000005 rename book.author_name to author
- 5c0000000006 award, a new table
- 5c0000000007 book_format gains "ebook" (ALTER TYPE on PostgreSQL, a rebuilt CHECK on SQLite)
- da0000000005 an author's full name, da0000000006 the first awards, da0000000007 an ebook and
  its award (and an award deleted)

Each direction on SQLite and PostgreSQL, online and with ``--sql``, is compared with the state
that the history, replayed offline, says the database holds.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory

from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.changes.changeset import Dataset, same_row
from alembic_seeds.commands import check, show
from alembic_seeds.dataset.load import load_seeddata
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.replay import history_under, replay_under
from tests.databases import engine_for
from tests.evolving import EVOLVING
from tests.small_projects import run_sql

SEEDED = ("genre", "book", "award")


@pytest.fixture
def config(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return project_config(EVOLVING)


def project_config(root: Path) -> Config:
    config = Config(str(root / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


def content(url: str) -> Dataset:
    """The seeded tables the database has, as they are (columns of their point in history)."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            present = [t for t in SEEDED if sa.inspect(connection).has_table(t)]
            return read_dataset(
                connection, SeedsProject.from_config(project_config(EVOLVING)).metadata, present
            )
    finally:
        engine.dispose()


def heads(url: str) -> tuple[str, ...]:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def expected(config: Config, url: str) -> Dataset:
    """What the history below the database's heads produces, replayed offline."""
    scripts = ScriptDirectory.from_config(config)
    keys = {"genre": ("id",), "book": ("id",), "award": ("id",)}
    return replay_under(scripts, heads(url), keys).state


def seeddata() -> Dataset:
    project = SeedsProject.from_config(project_config(EVOLVING))
    return load_seeddata(project.seeddata, project.spec, project.metadata).rows


def differences(actual: Dataset, wanted: Dataset) -> Iterator[str]:
    """What differs, a column one side leaves out being null (a table absent: empty)."""
    for table in sorted(set(actual) | set(wanted)):
        have, want = actual.get(table, {}), wanted.get(table, {})
        for key in sorted(have.keys() | want.keys(), key=repr):
            if key not in have:
                yield f"{table} {key}: missing"
            elif key not in want:
                yield f"{table} {key}: unexpected {have[key]}"
            elif not same_row(have[key], want[key]):
                yield f"{table} {key}: {have[key]} != {want[key]}"


def assert_same(actual: Dataset, wanted: Dataset, when: str) -> None:
    found = list(differences(actual, wanted))
    assert not found, f"{when}: {found}"


def upgrade_order(config: Config) -> list[Script]:
    scripts = ScriptDirectory.from_config(config)
    return history_under(scripts, scripts.get_heads())


def test_the_history_runs_in_the_order_it_was_written(config: Config) -> None:
    order = [script.revision for script in upgrade_order(config)]
    # Every data revision after the schema it was written for, every schema revision that
    # changes what data revisions wrote after them.
    for earlier, later in [
        ("5c0000000002", "da0000000002"),
        ("da0000000002", "5c0000000003"),
        ("5c0000000003", "da0000000003"),
        ("da0000000004", "5c0000000004"),
        ("5c0000000005", "da0000000005"),
        ("5c0000000006", "da0000000006"),
        ("5c0000000007", "da0000000007"),
    ]:
        assert order.index(earlier) < order.index(later), (earlier, later)


def test_upgrade_heads_from_empty_gives_the_last_seeddata(config: Config, db_url: str) -> None:
    command.upgrade(config, "heads")
    assert_same(content(db_url), seeddata(), "after upgrade heads")
    assert_same(content(db_url), expected(config, db_url), "after upgrade heads (replayed)")


def test_every_revision_down_restores_what_it_had(config: Config, db_url: str) -> None:
    command.upgrade(config, "heads")
    project = SeedsProject.from_config(project_config(EVOLVING))
    for script in reversed(upgrade_order(config)):
        command.downgrade(config, downgrade_target(script))
        assert_same(content(db_url), expected(config, db_url), f"below {script.revision}")
        if "book" in content(db_url):
            # seeds check --db finds no drift wherever the database is in the history.
            outcome = check(project, db=True)
            assert outcome.exit_code == 0, (script.revision, outcome.output)
    assert heads(db_url) == ()


def downgrade_target(script: Script) -> str:
    """The target that downgrades ``script`` alone."""
    if script.down_revision is not None:
        return f"{script.revision}-1"
    return f"{next(iter(script.branch_labels))}@base"


def test_downgrade_of_the_seeds_branch_takes_the_schema_that_depends_on_it(
    config: Config, db_url: str
) -> None:
    command.upgrade(config, "heads")
    command.downgrade(config, "seeds@base")
    # What no data revision is below of stays: the tables and the nullable page count.
    assert heads(db_url) == ("5c0000000002",)
    assert_same(content(db_url), {}, "at seeds@base")
    command.upgrade(config, "heads")
    assert_same(content(db_url), seeddata(), "up again")
    command.downgrade(config, "base")
    assert heads(db_url) == ()


def test_upgrade_heads_with_sql_from_empty_gives_the_same_content(
    config: Config, db_url: str, tmp_path: Path
) -> None:
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, "heads", sql=True)
    run_sql(db_url, buffer.getvalue(), tmp_path / "upgrade.sql")
    assert_same(content(db_url), seeddata(), "after the SQL of upgrade heads")
    assert heads(db_url) == ("da0000000007",)


def test_seeds_check_replays_the_history_to_seeddata() -> None:
    outcome = check(SeedsProject.from_config(project_config(EVOLVING)))
    assert outcome.exit_code == 0, outcome.output
    assert "check passed" in outcome.output


def test_an_old_revision_shows_the_columns_of_its_time() -> None:
    project = SeedsProject.from_config(project_config(EVOLVING))
    first = show(project, "da0000000001").output
    assert 'shelf_code: "F-12"' in first and 'author_name: "Ann Lee"' in first
    emptied = show(project, "da0000000004").output
    assert 'shelf_code: "F-12" -> null' in emptied
