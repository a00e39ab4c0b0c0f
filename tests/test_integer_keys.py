"""Integer and composite primary keys, on the workshop fixture project.

``tool`` has an autoincrement integer key, ``material`` an identity key, ``tool_material`` a
composite key of two references. The project's history imports tools 1, 2 and 5 and then
deletes tool 5 again, so the seed data holds tools 1 and 2 only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from keyed_workshop.models import metadata
from keyed_workshop.seeds import SPEC

from alembic_seeds import commands
from alembic_seeds.changes.changeset import Dataset
from alembic_seeds.dataset.load import load_seeddata
from alembic_seeds.errors import DatasetError
from alembic_seeds.migration.autogenerate import autogenerate
from alembic_seeds.migration.config import SeedsProject
from tests.fixture_projects import WORKSHOP, copy_project
from tests.scratch import database_content

TABLES = ["tool", "material", "tool_material"]


def workshop(root: Path) -> SeedsProject:
    copy_project(root, WORKSHOP)
    return SeedsProject.from_config(Config(str(root / "alembic.ini")))


def lines(project: SeedsProject, name: str) -> list[dict[str, Any]]:
    text = (project.seeddata / name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def append(project: SeedsProject, name: str, *rows: dict[str, Any]) -> None:
    with (project.seeddata / name).open("a", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")


def write(project: SeedsProject, name: str, rows: list[dict[str, Any]]) -> None:
    (project.seeddata / name).write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8"
    )


def problems(project: SeedsProject) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        load_seeddata(project.seeddata, SPEC, metadata)
    root = f"{project.seeddata.parent}/"
    return [str(problem).replace(root, "") for problem in caught.value.problems]


def database(url: str) -> Dataset:
    return database_content(url, metadata, TABLES)


def seeddata(project: SeedsProject) -> Dataset:
    rows = load_seeddata(project.seeddata, SPEC, metadata).rows
    return {table: rows[table] for table in TABLES}


def add_a_plane_of_brass(project: SeedsProject) -> None:
    """A new tool and a new material, both without ids, and the row that joins them."""
    append(project, "tools.jsonl", {"name": "Plane", "weight": 900})
    append(project, "materials.jsonl", {"name": "Brass"})
    append(project, "tool_materials.jsonl", {"tool": "Plane", "material": "Brass", "share": 15})


def test_the_workshop_seed_data_is_valid(tmp_path: Path) -> None:
    project = workshop(tmp_path)

    outcome = commands.validate(project)

    assert outcome.lines == ["seeddata is valid: 8 rows in 3 tables"]
    assert autogenerate(project, "nothing") is None


def test_composite_keys_are_the_rows_their_references_name(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    append(project, "tool_materials.jsonl", {"tool": {"id": 1}, "material": "Oak", "share": 5})

    # Hammer / Oak is there already: by label or by id, it is the same key.
    assert problems(project) == [
        "seeddata/tool_materials.jsonl:5: duplicate-id: tool_material 1, 2 also at "
        "seeddata/tool_materials.jsonl:2"
    ]
    write(project, "tool_materials.jsonl", lines(project, "tool_materials.jsonl")[:3])
    rows = seeddata(project)["tool_material"]
    assert sorted(rows) == [(1, 1), (1, 2), (2, 1)]
    assert rows[(1, 2)] == {"tool_id": 1, "material_id": 2, "share_percent": 30}


def test_a_missing_part_of_a_composite_key_is_a_missing_column(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    append(project, "tool_materials.jsonl", {"material": "Oak", "share": 5})

    assert problems(project) == [
        "seeddata/tool_materials.jsonl:5: missing-column: tool_material needs field 'tool'"
    ]


def test_new_rows_get_the_next_integers_above_every_id_used(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    add_a_plane_of_brass(project)

    generated = autogenerate(project, "a brass plane")

    assert generated is not None
    assert generated.assigned_ids == {"tool": 1, "material": 1}
    # Tool 5 was deleted, but a revision used its id: the next tool is 6, not 3.
    assert lines(project, "tools.jsonl")[-1] == {"id": 6, "name": "Plane", "weight": 900}
    assert lines(project, "materials.jsonl")[-1] == {"id": 3, "name": "Brass"}
    # The joining row refers by label, as written.
    assert lines(project, "tool_materials.jsonl")[-1] == {
        "tool": "Plane",
        "material": "Brass",
        "share": 15,
    }
    inserts = {table: list(c.inserts) for table, c in generated.changes.tables.items()}
    assert inserts == {
        "material": [{"id": 3, "name": "Brass"}],
        "tool": [{"id": 6, "name": "Plane", "weight_grams": 900}],
        "tool_material": [{"tool_id": 6, "material_id": 3, "share_percent": 15}],
    }
    assert autogenerate(project, "nothing new") is None


def test_new_ids_come_after_ids_written_later_in_the_file(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    append(project, "tools.jsonl", {"name": "Plane"}, {"id": 10, "name": "File"}, {"name": "Awl"})

    generated = autogenerate(project, "three tools")

    assert generated is not None
    assert [(row["id"], row["name"]) for row in lines(project, "tools.jsonl")[2:]] == [
        (11, "Plane"),
        (10, "File"),
        (12, "Awl"),
    ]


def test_integer_keys_deploy_as_seeddata_says(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    project = workshop(tmp_path)
    add_a_plane_of_brass(project)
    assert autogenerate(project, "a brass plane") is not None

    command.upgrade(project.config, "heads")

    assert database(db_url) == seeddata(project)


def test_composite_key_rows_update_and_delete_and_downgrade_exactly(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    project = workshop(tmp_path)
    command.upgrade(project.config, "heads")
    before = database(db_url)
    assert before == seeddata(project)
    rows = lines(project, "tool_materials.jsonl")
    hammer_steel, hammer_oak, saw_steel, saw_oak = rows
    assert (hammer_steel["tool"], hammer_steel["material"]) == ("Hammer", "Steel")
    assert (saw_oak["tool"], saw_oak["material"]) == ("Saw", "Oak")
    write(
        project,
        "tool_materials.jsonl",
        [{**hammer_steel, "share": 65}, hammer_oak, {**saw_steel, "share": 100}],
    )

    generated = autogenerate(project, "saws are all steel")

    assert generated is not None
    assert generated.changes.counts() == {
        "tool_material": {"inserted": 0, "updated": 2, "deleted": 1}
    }
    (deleted,) = generated.changes.tables["tool_material"].deletes
    assert deleted == {"tool_id": 2, "material_id": 2, "share_percent": 40}
    command.upgrade(project.config, "heads")
    after = database(db_url)
    assert after == seeddata(project)
    assert after["tool_material"][(1, 1)]["share_percent"] == 65
    command.downgrade(project.config, "seeds@-1")
    assert database(db_url) == before
