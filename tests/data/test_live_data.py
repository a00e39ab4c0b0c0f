"""Data tests: the live ``seeddata/`` and data revisions, whatever they hold.

- ``seeddata/`` of every branch validates;
- every change in it is captured by a data revision (``seeds check`` passes);
- ``alembic upgrade heads`` on an empty database gives exactly the rows ``seeddata/``
  describes (compared with the loaded seed data);
- every data revision, newest first, downgrades and upgrades back exactly (compared with
  the offline replay of what the database has applied), and at the end the seeded tables
  are empty while the schema stays.

They name no revision id, no row count and no value of the data. Run them alone with
``-m data``; ``SEEDS_DATA_PROJECT`` points them at another copy of the project.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import Script
from click.testing import CliRunner

from alembic_seeds.cli import main as seeds_main
from alembic_seeds.errors import DatasetError
from alembic_seeds.migration.replay import data_revisions_under
from tests.live_project import LiveProject, assert_same, live_root, user_tables

pytestmark = pytest.mark.data


@pytest.fixture
def live(db_url: str, monkeypatch: pytest.MonkeyPatch) -> LiveProject:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return LiveProject(live_root(), db_url)


def test_seeddata_of_every_branch_validates() -> None:
    project = LiveProject(live_root())
    for branch in project.branches():
        try:
            project.desired()
        except DatasetError as error:
            pytest.fail(f"seeddata of branch {branch} does not validate:\n{error}", pytrace=False)


def test_every_change_of_seeddata_is_captured_by_a_data_revision() -> None:
    project = LiveProject(live_root())
    for branch in project.branches():
        result = CliRunner().invoke(
            seeds_main, ["-c", str(project.ini), "check", "--branch", branch]
        )
        if result.exit_code != 0:
            pytest.fail(f"seeds check --branch {branch} failed:\n{result.output}", pytrace=False)


def test_upgrade_from_empty_then_every_revision_down_and_up(live: LiveProject) -> None:
    config = live.config()
    tables = live.tables()
    command.upgrade(config, "heads")
    assert_same(live.content(), live.desired(), tables, "after upgrade heads")
    schema = user_tables(str(live.url))

    for script in newest_first(live):
        target = script.down_revision or f"{branch_label(live, script)}@base"
        assert isinstance(target, str), f"{script.revision}: merge revisions are not walked"
        command.downgrade(config, target)
        assert_same(live.content(), live.expected(), tables, f"after downgrading {script.revision}")
        command.upgrade(config, script.revision)
        assert_same(live.content(), live.expected(), tables, f"after upgrading {script.revision}")
        command.downgrade(config, target)

    assert live.expected() == {table: {} for table in tables}
    assert_same(live.content(), live.expected(), tables, "with every data revision downgraded")
    assert user_tables(str(live.url)) == schema


def newest_first(live: LiveProject) -> list[Script]:
    scripts = live.scripts()
    applied = data_revisions_under(scripts, tuple(scripts.get_heads()))
    return [script for script, _ in reversed(applied)]


def branch_label(live: LiveProject, script: Script) -> str:
    labels = sorted(script.branch_labels)
    assert labels, f"{script.revision} is the first of its branch but has no branch label"
    return labels[0]
