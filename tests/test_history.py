"""The real edit history of the Lumina data, replayed as data revisions, up and down.

For each recorded state (state 33 excepted: it comes from a test mock), the state becomes
``seeddata/`` and a revision is generated; on each backend the revisions are applied one at
a time, and the database must equal the state after each. Then every revision is downgraded
one at a time, and the database must equal the state before it each time.

The revisions are generated once per module and applied on every backend: autogenerate
replays the earlier revisions offline and never reads a database, so what it writes does
not depend on the backend. The backends only read the generated project.
"""

from __future__ import annotations

import compileall
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from frozen_lumina.models import metadata
from frozen_lumina.seeds import SPEC

from alembic_seeds.changes.changeset import Dataset
from alembic_seeds.dataset.write import write_seeddata
from alembic_seeds.migration.autogenerate import autogenerate
from alembic_seeds.migration.config import SeedsProject
from tests.fixture_projects import copy_project
from tests.reference import HistoryState, history_states
from tests.scratch import database_content

SEEDED = SPEC.tables()
#: State 33 was taken from the seed's test mock, not from a real run (see its notes).
MOCK_STATE = 33


@dataclass
class Step:
    name: str
    inserted: int
    updated: int
    deleted: int
    per_table: dict[str, dict[str, int]]


def onto_current_schema(dataset: Dataset) -> Dataset:
    """The state as the current schema can hold it.

    In states 00-02 three texts were stored twice under different ids; the current schema
    keeps (en_text, he_text) unique. The first id of each text stays, and every reference
    to a duplicate is pointed at it (the kind of change state 03 made by hand).
    """
    translations = dataset["Translation"]
    first: dict[tuple[str, str], str] = {}
    replaced: dict[str, str] = {}
    for (key,), row in translations.items():
        text = (row["en_text"], row["he_text"])
        if text in first:
            replaced[key] = first[text]
        else:
            first[text] = key
    if not replaced:
        return dataset
    result: Dataset = {}
    for name, rows in dataset.items():
        table = metadata.tables[name]
        text_columns = [
            fk.parent.name for fk in table.foreign_keys if fk.column.table.name == "Translation"
        ]
        result[name] = {}
        for key, row in rows.items():
            if name == "Translation" and key[0] in replaced:
                continue
            result[name][key] = {
                column: replaced.get(value, value) if column in text_columns else value
                for column, value in row.items()
            }
    return result


def scratch_project(root: Path) -> Path:
    """A copy of the project's Alembic setup with no data revisions and no seed data."""
    copy_project(root, data_revisions=False, seeddata=False)
    return root / "alembic.ini"


def expected(state: HistoryState | None) -> Dataset:
    result: Dataset = {table: {} for table in SEEDED}
    if state is not None:
        for table, rows in state.dataset.items():
            result[table] = dict(rows)
    return result


def differences(actual: Dataset, wanted: Dataset) -> Iterator[str]:
    for table in SEEDED:
        have, want = actual.get(table, {}), wanted.get(table, {})
        for key in want.keys() - have.keys():
            yield f"{table} {key}: missing"
        for key in have.keys() - want.keys():
            yield f"{table} {key}: unexpected"
        for key in want.keys() & have.keys():
            if have[key] != want[key]:
                yield f"{table} {key}: {have[key]} != {want[key]}"


def assert_database_is(url: str, state: HistoryState | None, when: str) -> None:
    problems = list(differences(database_content(url), expected(state)))
    assert not problems, f"{when}: {len(problems)} differences, first: {problems[:5]}"


@dataclass(frozen=True)
class GeneratedHistory:
    """A scratch project holding one data revision per state, and what each one changes."""

    config_path: Path
    states: list[HistoryState]
    revisions: list[str]
    steps: list[Step]


@pytest.fixture(scope="module")
def generated_history(tmp_path_factory: pytest.TempPathFactory) -> GeneratedHistory:
    root = tmp_path_factory.mktemp("history")
    config_path = scratch_project(root)
    project = SeedsProject.from_config(Config(str(config_path)))
    states = [
        replace(state, dataset=onto_current_schema(state.dataset))
        for state in history_states()
        if state.n != MOCK_STATE
    ]
    revisions: list[str] = []
    steps: list[Step] = []
    for state in states:
        write_seeddata(project.seeddata, SPEC, state.dataset)
        generated = autogenerate(
            project,
            f"state {state.name}: {state.subject[:60]}",
            revision=f"s{state.n:02d}{state.commit}",
        )
        assert generated is not None, f"state {state.name} changed nothing"
        counts = generated.changes.counts()
        revisions.append(generated.revision)
        steps.append(
            Step(
                state.name,
                sum(c["inserted"] for c in counts.values()),
                sum(c["updated"] for c in counts.values()),
                sum(c["deleted"] for c in counts.values()),
                counts,
            )
        )
    # Every Alembic command loads every revision file again, and the test runs about 160
    # commands per backend over 80 revisions; where Python is told not to write bytecode
    # (PYTHONDONTWRITEBYTECODE) each load would compile the file anew. The files are never
    # changed after this point, so their bytecode, compiled once, stays valid.
    assert compileall.compile_dir(root, quiet=1)
    return GeneratedHistory(config_path, states, revisions, steps)


@pytest.mark.slow
def test_real_history_up_and_down(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    generated_history: GeneratedHistory,
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    config = Config(str(generated_history.config_path))
    states, steps = generated_history.states, generated_history.steps

    started = time.perf_counter()
    for state, revision in zip(states, generated_history.revisions, strict=True):
        command.upgrade(config, revision)
        assert_database_is(db_url, state, f"after upgrading to {state.name}")
    upgraded = time.perf_counter() - started

    for index in range(len(states) - 1, -1, -1):
        command.downgrade(config, "seeds@-1")
        previous = states[index - 1] if index > 0 else None
        assert_database_is(db_url, previous, f"after downgrading {states[index].name}")
    downgraded = time.perf_counter() - upgraded - started

    # Text fixes are updates of their row, never a delete plus an insert.
    by_name = {step.name: step for step in steps}
    assert by_name["76-990a498"].per_table["Translation"] == {
        "inserted": 1,
        "updated": 1,
        "deleted": 0,
    }
    assert by_name["39-2c9f574"].per_table["Question"]["updated"] == 14
    assert sum(step.updated for step in steps) > 0

    report = {
        "backend": db_url.split(":", 1)[0],
        "steps": len(steps),
        "inserted": sum(step.inserted for step in steps),
        "updated": sum(step.updated for step in steps),
        "deleted": sum(step.deleted for step in steps),
        "seconds_up": round(upgraded, 2),
        "seconds_down": round(downgraded, 2),
        "per_step": [
            {"state": s.name, "inserted": s.inserted, "updated": s.updated, "deleted": s.deleted}
            for s in steps
        ],
    }
    print(json.dumps({k: v for k, v in report.items() if k != "per_step"}))
    (tmp_path / "history-report.json").write_text(json.dumps(report, indent=1))
