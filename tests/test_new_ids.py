"""New rows may be written without ids: the revision that adds them gives them ids for good."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.config import Config
from frozen_lumina.models import metadata
from frozen_lumina.seeds import SPEC

from alembic_seeds import commands
from alembic_seeds.dataset.load import load_seeddata
from alembic_seeds.migration.autogenerate import autogenerate
from alembic_seeds.migration.config import SeedsProject
from tests.fixture_projects import copy_project as copy_fixture_project


def copy_project(root: Path) -> SeedsProject:
    copy_fixture_project(root)
    return SeedsProject.from_config(Config(str(root / "alembic.ini")))


def append(path: Path, *rows: dict[str, object]) -> None:
    with path.open("a", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")


def test_rows_without_ids_get_ids_written_back(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    seeddata = project.seeddata
    append(
        seeddata / "curriculum/modules.jsonl",
        {
            "parents": ["Binary Trees"],
            "courses": [
                "Data Structures and Introduction to Algorithms @ The Open University Of Israel"
            ],
            "name": {"en": "AVL Trees", "he": "עצי AVL"},
        },
    )
    append(
        seeddata / "questions/questions.jsonl",
        {
            "modules": ["AVL Trees"],
            "type": "value",
            "status": "ai_generated",
            "text": {
                "en": "What is the largest balance factor in an AVL tree?",
                "he": "מהו גורם האיזון המרבי בעץ AVL?",
            },
        },
    )
    append(
        seeddata / "questions/answers.jsonl",
        {"question": "What is the largest balance factor in an AVL tree?"},
    )
    append(
        seeddata / "questions/number_answers.jsonl",
        {"answer": "What is the largest balance factor in an AVL tree?", "value": 1},
    )

    generated = autogenerate(project, "add AVL trees")

    assert generated is not None
    # Every row that got an id, counted by table: the module's block (a row owned by the
    # module, never written on a line of its own) too.
    assert generated.assigned_ids == {
        "Translation": 2,
        "Module": 1,
        "Block": 1,
        "Question": 1,
        "Answer": 1,
        "NumberAnswer": 1,
    }
    counts = generated.changes.counts()
    assert counts["Module"]["inserted"] == 1
    assert counts["Block"]["inserted"] == 1
    assert counts["Translation"]["inserted"] == 2
    assert counts["_ModuleHierarchy"]["inserted"] == 1
    # The ids are in seeddata/ now: loading assigns nothing and finds the same rows.
    reloaded = load_seeddata(seeddata, SPEC, metadata)
    assert reloaded.assigned_ids == []
    module_line = (seeddata / "curriculum/modules.jsonl").read_text("utf-8").splitlines()[-1]
    module = json.loads(module_line)
    inserted_module = generated.changes.tables["Module"].inserts[0]
    assert module["id"] == inserted_module["id"]
    assert module["block"] == inserted_module["blockId"]
    assert module["name"]["id"] == inserted_module["translationId"]
    assert autogenerate(project, "nothing new") is None


def test_validation_still_names_the_line_of_a_row_without_id(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    append(
        project.seeddata / "curriculum/modules.jsonl",
        {"name": {"en": "X", "he": "Y"}, "parents": ["Nope"]},
    )
    lines = (project.seeddata / "curriculum/modules.jsonl").read_text("utf-8").count("\n")
    try:
        load_seeddata(project.seeddata, SPEC, metadata)
    except Exception as error:  # DatasetError
        message = str(error)
    else:
        raise AssertionError("a reference to a missing module was accepted")
    assert (
        f"curriculum/modules.jsonl:{lines}: missing-reference: parents: no Module named 'Nope'"
        in message
    )


def test_revision_command_counts_every_row_that_got_an_id_by_table(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    append(
        project.seeddata / "curriculum/modules.jsonl",
        {"name": {"en": "AVL Trees", "he": "עצי AVL"}},
        {"name": {"en": "Red-Black Trees", "he": "עצים אדומים-שחורים"}},
    )

    outcome = commands.revision(project, "two modules")

    lines = outcome.lines
    # 2 modules, their 2 blocks and their 2 texts.
    assert "Gave ids to 6 new rows and wrote them into seeddata/:" in lines
    start = lines.index("Gave ids to 6 new rows and wrote them into seeddata/:")
    assert sorted(lines[start + 1 :]) == ["  Block: 2", "  Module: 2", "  Translation: 2"]
