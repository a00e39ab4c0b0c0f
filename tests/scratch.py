"""A private copy of the project (Alembic setup, data revisions, ``seeddata/``) in a test's
``tmp_path``, and the tools the edit, drift and offline tests share to work on it.

``make_scratch`` copies ``alembic.ini``, ``migrations/``, ``data_migrations/`` (with the real
first data revision, which imports the whole reference data) and ``seeddata/``; its
``config`` runs Alembic on the copy against the test's database. ``seeddata/`` files are
edited line by line (one JSON object per line, written back in the project's own format),
so that every edit is the kind of change a person makes in a pull request.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from frozen_lumina.models import metadata
from frozen_lumina.seeds import SPEC

from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.changes.changeset import ChangeSet, Dataset
from alembic_seeds.dataset.load import load_seeddata
from alembic_seeds.dataset.write import format_line
from alembic_seeds.migration.autogenerate import Generated, autogenerate
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.log import LogEntry, entries
from tests.databases import by_hand, engine_for
from tests.fixture_projects import copy_project

#: Every table the seed data fills.
SEEDED: list[str] = list(SPEC.tables())

JsonObject = dict[str, Any]

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")


@dataclass
class Scratch:
    """A copy of the project in ``root``, migrating the database at ``url``."""

    root: Path
    url: str
    config: Config
    project: SeedsProject

    @property
    def seeddata(self) -> Path:
        return self.root / "seeddata"

    @property
    def versions(self) -> Path:
        return self.root / "data_migrations" / "versions"

    # -- Alembic -----------------------------------------------------------------------

    def upgrade(self, target: str = "seeds@head", *, drift: str | None = None) -> None:
        set_x(self.config, drift)
        try:
            command.upgrade(self.config, target)
        finally:
            set_x(self.config, None)

    def downgrade(self, target: str = "seeds@-1", *, drift: str | None = None) -> None:
        set_x(self.config, drift)
        try:
            command.downgrade(self.config, target)
        finally:
            set_x(self.config, None)

    def generate(self, message: str) -> Generated:
        """A data revision from the pending edits of ``seeddata/``; there must be some."""
        generated = autogenerate(self.project, message)
        assert generated is not None, "the edit produced no change"
        return generated

    # -- the database ------------------------------------------------------------------

    def content(self) -> Dataset:
        return database_content(self.url)

    def log(self) -> list[LogEntry]:
        return log_entries(self.url)

    def versions_applied(self) -> set[str]:
        """The revisions in Alembic's version table (the heads the database is at)."""
        return versions_applied(self.url)

    def execute(self, sql: str, **parameters: Any) -> int:
        """Run one statement by hand, committed; the number of rows it touched."""
        with by_hand(self.url) as connection:
            return connection.execute(sa.text(sql), parameters).rowcount

    # -- seeddata/ ---------------------------------------------------------------------

    def expected(self) -> Dataset:
        """What ``seeddata/`` says the seeded tables hold."""
        return load_seeddata(self.seeddata, SPEC, metadata).rows

    def lines(self, relative: str) -> list[JsonObject]:
        return read_jsonl(self.seeddata / relative)

    def write(self, relative: str, objects: list[JsonObject]) -> None:
        write_jsonl(self.seeddata / relative, objects)

    def edit(
        self,
        relative: str,
        where: Callable[[JsonObject], bool],
        change: Callable[[JsonObject], None],
    ) -> None:
        """Apply ``change`` to the one line of ``relative`` that ``where`` selects."""
        objects = self.lines(relative)
        chosen = [obj for obj in objects if where(obj)]
        assert len(chosen) == 1, f"{relative}: {len(chosen)} lines match, expected 1"
        change(chosen[0])
        self.write(relative, objects)

    def set_text(self, translation_id: str, *, en: str | None = None, he: str | None = None) -> int:
        """Change a text in every place it is written; how many copies were changed."""
        changed = 0
        for path in sorted(self.seeddata.rglob("*.jsonl")):
            objects = read_jsonl(path)
            copies = [text for obj in objects for text in _texts(obj, translation_id)]
            for text in copies:
                if en is not None:
                    text["en"] = en
                if he is not None:
                    text["he"] = he
            if copies:
                write_jsonl(path, objects)
                changed += len(copies)
        return changed


def make_scratch(
    root: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    output: TextIO | None = None,
) -> Scratch:
    """Copy the project into ``root`` and point its Alembic configuration at ``url``.

    ``output`` receives what Alembic prints (the SQL of ``--sql``). Logging is left as the
    test set it (``env.py`` would otherwise reconfigure it from ``alembic.ini``).
    """
    copy_project(root)
    monkeypatch.setenv("DATABASE_URL", url)
    config = Config(str(root / "alembic.ini"), output_buffer=output)
    config.attributes["configure_logger"] = False
    return Scratch(root, url, config, SeedsProject.from_config(config))


def set_x(config: Config, drift: str | None) -> None:
    """What ``alembic -x seeds_drift=DRIFT`` sets (nothing when ``drift`` is None)."""
    config.cmd_opts = None if drift is None else argparse.Namespace(x=[f"seeds_drift={drift}"])


def read_jsonl(path: Path) -> list[JsonObject]:
    text = path.read_text(encoding="utf-8")
    objects: list[JsonObject] = [json.loads(line) for line in text.splitlines()]
    return objects


def write_jsonl(path: Path, objects: list[JsonObject]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{format_line(obj)}\n" for obj in objects), encoding="utf-8")


def _texts(value: Any, translation_id: str) -> Iterator[JsonObject]:
    """Every inline text object with ``translation_id`` inside a line."""
    if isinstance(value, dict):
        if value.get("id") == translation_id and {"en", "he"} <= value.keys():
            yield value
            return
        for item in value.values():
            yield from _texts(item, translation_id)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, translation_id)


# -- databases and datasets ----------------------------------------------------------------


def log_entries(url: str) -> list[LogEntry]:
    """The applied-revision log of the database at ``url``, oldest first."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return entries(connection)
    finally:
        engine.dispose()


def versions_applied(url: str) -> set[str]:
    """The revisions in Alembic's version table of the database at ``url``."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def database_content(
    url: str, of: sa.MetaData = metadata, tables: Iterable[str] = tuple(SEEDED)
) -> Dataset:
    """The rows of ``tables`` (the project's seeded tables unless told) in the database."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return read_dataset(connection, of, tables)
    finally:
        engine.dispose()


def dump(dataset: Dataset) -> str:
    """A byte-exact text form of the seeded tables (rows by key, columns by name)."""
    return json.dumps(
        {
            table: [rows[key] for key in sorted(rows, key=repr)]
            for table, rows in sorted(dataset.items())
            if table in SEEDED
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def differences(actual: Dataset, wanted: Dataset) -> list[str]:
    """Table by table, what ``actual`` lacks, has extra, or holds otherwise."""
    problems: list[str] = []
    for table in SEEDED:
        have, want = actual.get(table, {}), wanted.get(table, {})
        problems += [f"{table} {key}: missing" for key in sorted(want.keys() - have.keys())]
        problems += [f"{table} {key}: unexpected" for key in sorted(have.keys() - want.keys())]
        problems += [
            f"{table} {key}: {have[key]} != {want[key]}"
            for key in sorted(want.keys() & have.keys())
            if have[key] != want[key]
        ]
    return problems


def assert_same(actual: Dataset, wanted: Dataset, when: str) -> None:
    problems = differences(actual, wanted)
    assert not problems, f"{when}: {len(problems)} differences, first: {problems[:5]}"


def counts(changes: ChangeSet) -> dict[str, tuple[int, int, int]]:
    """Per table (inserted, updated, deleted) of a change set."""
    return {
        table: (c["inserted"], c["updated"], c["deleted"]) for table, c in changes.counts().items()
    }


def rows_where(dataset: Dataset, table: str, **values: Any) -> list[Mapping[str, Any]]:
    return [
        row
        for row in dataset[table].values()
        if all(row.get(column) == value for column, value in values.items())
    ]


# -- an edit touching several tables (shared by the edit and offline tests) -----------------

#: (inserted, updated, deleted) per table that ``edit_several_tables`` gives.
SEVERAL_TABLES: dict[str, tuple[int, int, int]] = {
    "Course": (0, 1, 0),
    "NumberAnswer": (0, 1, 0),
    "Question": (0, 1, 0),
    "SelectAnswer": (0, 1, 0),
    "Translation": (1, 1, 1),
    "_ModuleToQuestion": (1, 0, 0),
}
LINEAR_ALGEBRA_2 = "68453935-7832-405a-b42a-e41d10099093"
LINEAR_ALGEBRA_2_HE_FIXED = "אלגברה לינארית 2"
DATA_MINING = "8209acb5-9531-4a34-9036-e3a681349bb4"
PUBLISHED_AT = "2024-09-01T08:30:00"
BINARY_TREE_QUESTION = "c3d4e5f6-7a8b-4c9d-ae1f-3a4b5c6d7e8f"
NUMBER_ANSWER = "f6a7b8c9-ad1e-4f2a-3b4c-number4444444"
CHOICE = "3b1ab701-ddbf-4964-8b89-b094a4f39c74"
NEW_FREE_TEXT: JsonObject = {
    "id": "9d0c5d1e-7c57-4d4b-a4f6-000000000001",
    "en": "Probability",
    "he": "הסתברות",
}


def edit_several_tables(project: Scratch) -> None:
    """One edit of six tables: texts (fixed, added, removed), an enum, a float, a boolean,
    a date-time and a link."""
    project.set_text(LINEAR_ALGEBRA_2, he=LINEAR_ALGEBRA_2_HE_FIXED)
    free = project.lines("translations.jsonl")
    project.write("translations.jsonl", [*free[1:], NEW_FREE_TEXT])  # one text gone, one new
    project.edit(
        "catalog/courses.jsonl",
        lambda obj: obj["id"] == DATA_MINING,
        lambda obj: obj.update(published_at=PUBLISHED_AT),
    )

    def approve_and_link(obj: JsonObject) -> None:
        obj["status"] = "approved"
        obj["modules"] = [*obj["modules"], "Combinatorics"]

    project.edit(
        "questions/questions.jsonl", lambda obj: obj["id"] == BINARY_TREE_QUESTION, approve_and_link
    )
    project.edit(
        "questions/number_answers.jsonl",
        lambda obj: obj["id"] == NUMBER_ANSWER,
        lambda obj: obj.update(value=3.5),
    )
    project.edit(
        "questions/choices.jsonl",
        lambda obj: obj["id"] == CHOICE,
        lambda obj: obj.update(correct=not obj["correct"]),
    )
