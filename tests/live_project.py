"""The live project that the data tests check: the repository's own, or the one named by
``SEEDS_DATA_PROJECT`` (a folder holding an ``alembic.ini`` with a ``[seeds]`` section).

Data tests check whatever that project's ``seeddata/`` and data revisions hold. They name
no revision id, no row count and no value of the data, so a data pull request passes them
exactly when it is right.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.changes.changeset import Dataset, same_row
from alembic_seeds.dataset.load import load_seeddata, primary_keys
from alembic_seeds.migration.config import SECTION, SeedsProject
from alembic_seeds.migration.replay import replay_under
from tests.databases import engine_for
from tests.fixture_projects import REPOSITORY_ROOT

#: Environment variable naming the project the data tests check (default: this repository).
PROJECT_ENV = "SEEDS_DATA_PROJECT"
#: What a copy of the live project needs besides alembic.ini: its schema and data revisions,
#: its seed data and its own package (models and spec).
PROJECT_FOLDERS = ("migrations", "data_migrations", "seeddata", "lumina")

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")


def copy_live_project(root: Path) -> Path:
    """A copy of the repository's own project in ``root``, to edit as a person would."""
    root.mkdir(parents=True)
    shutil.copy(REPOSITORY_ROOT / "alembic.ini", root / "alembic.ini")
    for folder in PROJECT_FOLDERS:
        shutil.copytree(REPOSITORY_ROOT / folder, root / folder, ignore=_IGNORED)
    return root


def live_root() -> Path:
    named = os.environ.get(PROJECT_ENV, "").strip()
    return Path(named).resolve() if named else REPOSITORY_ROOT


@dataclass
class LiveProject:
    """The project under test, migrating the database ``url`` (None: no database yet)."""

    root: Path
    url: str | None = None

    @property
    def ini(self) -> Path:
        return self.root / "alembic.ini"

    def config(self) -> Config:
        config = Config(str(self.ini))
        # Leave logging as pytest set it (env.py would configure it from alembic.ini).
        config.attributes["configure_logger"] = False
        return config

    def seeds(self, branch: str | None = None) -> SeedsProject:
        return SeedsProject.from_config(self.config(), branch)

    def branches(self) -> list[str]:
        """Every data branch: the ``[seeds]`` one first, then each ``[seeds.NAME]``."""
        config = self.config()
        default = self.seeds().branch
        others = [
            section.removeprefix(f"{SECTION}.")
            for section in config.file_config.sections()
            if section.startswith(f"{SECTION}.")
        ]
        return [default, *others]

    def desired(self) -> Dataset:
        """What ``seeddata/`` of every branch says the seeded tables hold, together."""
        combined: Dataset = {}
        for branch in self.branches():
            project = self.seeds(branch)
            loaded = load_seeddata(
                project.seeddata, project.spec, project.metadata, base=project.base_seeddata
            )
            for table, rows in loaded.rows.items():
                combined.setdefault(table, {}).update(rows)
        return combined

    def scripts(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def tables(self) -> list[str]:
        return list(self.seeds().spec.tables())

    def content(self) -> Dataset:
        """Every row of the seeded tables of the database."""
        assert self.url is not None
        engine = engine_for(self.url)
        try:
            with engine.connect() as connection:
                return read_dataset(connection, self.seeds().metadata, self.tables())
        finally:
            engine.dispose()

    def heads(self) -> tuple[str, ...]:
        assert self.url is not None
        engine = engine_for(self.url)
        try:
            with engine.connect() as connection:
                return tuple(MigrationContext.configure(connection).get_current_heads())
        finally:
            engine.dispose()

    def expected(self) -> Dataset:
        """What the data revisions the database has applied produce, replayed offline."""
        project = self.seeds()
        keys = primary_keys(project.metadata, self.tables())
        state = replay_under(self.scripts(), self.heads(), keys).state
        return {table: state.get(table, {}) for table in self.tables()}


def differences(actual: Dataset, wanted: Dataset, tables: list[str]) -> Iterator[str]:
    """Table by table, what ``actual`` lacks, has in excess, or holds otherwise (a column
    one side leaves out is null there: a data revision written before a schema revision
    added the column does not name it)."""
    for table in tables:
        have, want = actual.get(table, {}), wanted.get(table, {})
        for key in sorted(want.keys() - have.keys(), key=repr):
            yield f"{table} {key}: missing"
        for key in sorted(have.keys() - want.keys(), key=repr):
            yield f"{table} {key}: unexpected"
        for key in sorted(want.keys() & have.keys(), key=repr):
            if not same_row(have[key], want[key]):
                yield f"{table} {key}: {have[key]} != {want[key]}"


def assert_same(actual: Dataset, wanted: Dataset, tables: list[str], when: str) -> None:
    found = list(differences(actual, wanted, tables))
    assert not found, f"{when}: {len(found)} differences, first: {found[:5]}"


def user_tables(url: str) -> set[str]:
    engine = engine_for(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
