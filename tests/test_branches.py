"""Data wanted only in some environments lives on its own branch label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from frozen_lumina.models import metadata

from alembic_seeds import commands
from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.cli import main
from alembic_seeds.errors import ConfigError
from alembic_seeds.migration.autogenerate import autogenerate
from alembic_seeds.migration.config import SeedsProject
from tests.databases import engine_for
from tests.fixture_projects import copy_project

DATA_STRUCTURES = "Data Structures and Introduction to Algorithms @ The Open University Of Israel"
DEV_SECTION = """
[seeds.dev]
# Demo rows for development databases only.
seeddata = %(here)s/seeddata_dev
"""


def dev_project(root: Path) -> Config:
    copy_project(root)
    with (root / "alembic.ini").open("a", encoding="utf-8") as ini:
        ini.write(DEV_SECTION)
    demo = root / "seeddata_dev"
    rows: dict[str, list[dict[str, object]]] = {
        "institutions/universities.jsonl": [
            {"name": {"en": "Demo University", "he": "אוניברסיטת הדגמה"}}
        ],
        "catalog/courses.jsonl": [
            {
                "university": "Demo University",
                "degrees": [],
                "name": {"en": "Demo Course", "he": "קורס הדגמה"},
            }
        ],
        "curriculum/modules.jsonl": [
            {
                "parents": ["Binary Trees"],
                "courses": [
                    "Demo Course @ Demo University",
                    DATA_STRUCTURES,
                ],
                "name": {"en": "Demo Module", "he": "מודול הדגמה"},
            }
        ],
    }
    for path, lines in rows.items():
        (demo / path).parent.mkdir(parents=True, exist_ok=True)
        (demo / path).write_text(
            "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), "utf-8"
        )
    return Config(str(root / "alembic.ini"))


def university_names(url: str) -> set[str]:
    engine = engine_for(url)
    with engine.connect() as connection:
        data = read_dataset(connection, metadata, ["University", "Translation"])
    engine.dispose()
    texts = data["Translation"]
    return {texts[(row["translationId"],)]["en_text"] for row in data["University"].values()}


def test_a_second_label_upgrades_on_its_own(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    config = dev_project(tmp_path)
    project = SeedsProject.from_config(config)

    generated = autogenerate(project, "demo rows", branch="dev")

    assert generated is not None
    counts = generated.changes.counts()
    assert counts["University"]["inserted"] == 1
    assert counts["_CourseModules"]["inserted"] == 2
    assert "Translation" in counts and counts["Translation"]["inserted"] == 3
    scripts = ScriptDirectory.from_config(config)
    script = scripts.get_revision(generated.revision)
    assert script is not None
    assert script.branch_labels == {"dev"}
    seeds_head = scripts.get_revision("seeds@head")
    assert seeds_head is not None
    assert script.dependencies == seeds_head.revision
    # The default branch sees nothing new: the demo rows are not its business.
    assert autogenerate(project, "nothing") is None

    command.upgrade(config, "seeds@head")
    assert "Demo University" not in university_names(db_url)
    command.upgrade(config, "dev@head")
    assert "Demo University" in university_names(db_url)
    command.downgrade(config, "dev@base")
    names = university_names(db_url)
    assert "Demo University" not in names
    assert "The Open University Of Israel" in names


def test_unknown_branch_is_a_clear_error(tmp_path: Path) -> None:
    config = dev_project(tmp_path)
    with pytest.raises(ConfigError, match=r"no \[seeds.qa\] section"):
        SeedsProject.from_config(config, "qa")


def test_revision_of_a_branch_names_the_folder_it_wrote_ids_into(tmp_path: Path) -> None:
    config = dev_project(tmp_path)
    project = SeedsProject.from_config(config, "dev")

    outcome = commands.revision(project, "demo rows")

    # A university, a course and a module; the course's and the module's blocks; 3 texts.
    told = outcome.lines.index("Gave ids to 8 new rows and wrote them into seeddata_dev/:")
    assert sorted(outcome.lines[told + 1 :]) == [
        "  Block: 2",
        "  Course: 1",
        "  Module: 1",
        "  Translation: 3",
        "  University: 1",
    ]
    # The ids are in the branch's own folder, and only there.
    demo = (tmp_path / "seeddata_dev/institutions/universities.jsonl").read_text("utf-8")
    assert '"id": ' in demo
    assert "Demo University" not in (
        tmp_path / "seeddata/institutions/universities.jsonl"
    ).read_text("utf-8")
    again = commands.revision(project, "nothing")
    assert again.lines == [
        "No changes in seeddata_dev/ that the revisions do not already hold; nothing written."
    ]


def test_validate_of_a_branch_reads_its_folder_on_top_of_the_default_one(tmp_path: Path) -> None:
    dev_project(tmp_path)
    ini = str(tmp_path / "alembic.ini")
    runner = CliRunner()

    valid = runner.invoke(main, ["validate", "--branch", "dev", "-c", ini])
    assert valid.exit_code == 0, valid.output
    # The default branch's rows, plus the demo university, course, module, 2 blocks, 3 texts,
    # the module's 2 course links and its prerequisite edge.
    default = runner.invoke(main, ["validate", "-c", ini])
    total = int(default.output.split(": ")[1].split()[0])
    assert valid.output.startswith(
        f"seeddata_dev/ (on top of seeddata/) is valid: {total + 11} rows in "
    ), valid.output

    # A mistake in the branch's folder is named by its own file and line.
    modules = tmp_path / "seeddata_dev/curriculum/modules.jsonl"
    modules.write_text(modules.read_text("utf-8").replace('"Binary Trees"', '"No Such Module"'))
    broken = runner.invoke(main, ["validate", "--branch", "dev", "-c", ini])
    assert broken.exit_code == 2
    [problem, summary] = broken.output.splitlines()
    assert problem.endswith(
        "seeddata_dev/curriculum/modules.jsonl:1: missing-reference: parents:"
        " no Module named 'No Such Module'"
    ), problem
    assert summary == "1 problem(s) in seed data; nothing written"

    unknown = runner.invoke(main, ["validate", "--branch", "qa", "-c", ini])
    assert unknown.exit_code != 0
    assert "no [seeds.qa] section" in unknown.output
