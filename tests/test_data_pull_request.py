"""A data change is a normal pull request: after valid edits of ``seeddata/``, each captured
by ``seeds revision --autogenerate``, the data tests pass; without the revision they fail
with the message of ``seeds check``.

This works on copies of the live project, editing its files as a person would (one JSON
line at a time: a text used in several places is edited in one of them, a renamed module on
its own line only; the revision writes the rest). The rows it edits are chosen by their
shape, not by their values, so that it holds whatever the live data holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alembic_seeds.cli import main as seeds_main
from tests.fixture_projects import REPOSITORY_ROOT
from tests.live_project import PROJECT_ENV, copy_live_project

JsonObject = dict[str, Any]


def read(path: Path) -> list[JsonObject]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, objects: list[JsonObject]) -> None:
    text = "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)
    path.write_text(text, encoding="utf-8")


def texts(value: Any) -> list[JsonObject]:
    """Every inline text (``{"id", "en", "he"}``) in a parsed line."""
    if isinstance(value, dict):
        found = [value] if {"en", "he"} <= value.keys() else []
        return found + [text for item in value.values() for text in texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    return []


def text_uses(seeddata: Path) -> dict[str, int]:
    """How many places each text (by id) is written in."""
    uses: dict[str, int] = {}
    for path in seeddata.rglob("*.jsonl"):
        for obj in read(path):
            for text in texts(obj):
                uses[text["id"]] = uses.get(text["id"], 0) + 1
    return uses


def edit_first(
    path: Path, choose: Callable[[JsonObject], bool], change: Callable[[JsonObject], None]
) -> None:
    objects = read(path)
    for obj in objects:
        if choose(obj):
            change(obj)
            write(path, objects)
            return
    pytest.fail(f"{path.name}: no line to edit")


def fix_a_hebrew_name(seeddata: Path) -> None:
    """The Hebrew name of a course, a text written in one place only."""
    uses = text_uses(seeddata)

    def fix(obj: JsonObject) -> None:
        obj["name"]["he"] += " (מתוקן)"

    edit_first(
        seeddata / "catalog" / "courses.jsonl", lambda obj: uses[obj["name"]["id"]] == 1, fix
    )


def rename_an_english_text(seeddata: Path) -> None:
    """The English text of the first text written in several places, edited in the first
    of them only (the rows it names may be referred to by label: they are renamed too)."""
    uses = text_uses(seeddata)
    for path in sorted(seeddata.rglob("*.jsonl")):
        objects = read(path)
        for obj in objects:
            shared = [text for text in texts(obj) if uses[text["id"]] > 1]
            if shared:
                shared[0]["en"] += " (reworded)"
                write(path, objects)
                return
    pytest.fail("no text is written in more than one place")


def rename_a_module(seeddata: Path) -> None:
    """A module that other lines refer to by name (sub-modules, questions), renamed on its
    own line only."""
    modules_path = seeddata / "curriculum" / "modules.jsonl"
    named: set[str] = set()
    for path in (modules_path, seeddata / "questions" / "questions.jsonl"):
        for obj in read(path):
            named.update(item for item in obj.get("parents", []) if isinstance(item, str))
            named.update(item for item in obj.get("modules", []) if isinstance(item, str))
    uses = text_uses(seeddata)

    def rename(obj: JsonObject) -> None:
        obj["name"]["en"] += " (renamed)"

    edit_first(
        modules_path,
        lambda obj: obj["name"]["en"] in named and uses[obj["name"]["id"]] == 1,
        rename,
    )


def add_a_module_with_questions(seeddata: Path) -> None:
    """A new module in a course, with two questions, an answer and choices, all without ids."""
    suffix = uuid.uuid4().hex[:8]
    module = f"Proof Module {suffix}"
    course = read(seeddata / "catalog" / "courses.jsonl")[0]
    course_label = f"{course['name']['en']} @ {course['university']}"
    with (seeddata / "curriculum" / "modules.jsonl").open("a", encoding="utf-8") as file:
        file.write(
            json.dumps(
                {"courses": [course_label], "name": {"en": module, "he": f"מודול {suffix}"}},
                ensure_ascii=False,
            )
            + "\n"
        )
    questions = [f"Proof question {n} of {suffix}?" for n in (1, 2)]
    with (seeddata / "questions" / "questions.jsonl").open("a", encoding="utf-8") as file:
        for n, question in enumerate(questions, start=1):
            line: JsonObject = {
                "modules": [module],
                "type": "selection",
                "status": "approved",
                "text": {"en": question, "he": f"שאלה {n} {suffix}?"},
            }
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
    with (seeddata / "questions" / "answers.jsonl").open("a", encoding="utf-8") as file:
        file.write(json.dumps({"question": questions[0]}, ensure_ascii=False) + "\n")
    with (seeddata / "questions" / "choices.jsonl").open("a", encoding="utf-8") as file:
        for correct, word in ((True, "yes"), (False, "no")):
            choice: JsonObject = {
                "answer": questions[0],
                "correct": correct,
                "text": {"en": f"{word} ({suffix})", "he": f"{word} {suffix}"},
            }
            file.write(json.dumps(choice, ensure_ascii=False) + "\n")


def delete_a_prerequisite_edge(seeddata: Path) -> None:
    """The first edge of the prerequisite graph, and the metadata lines that describe it."""
    edges_path = seeddata / "curriculum" / "prerequisites.jsonl"
    edges = read(edges_path)
    if not edges:
        pytest.fail("the seed data has no prerequisite edge to delete")
    edge = edges.pop(0)
    write(edges_path, edges)
    metadata_path = seeddata / "curriculum" / "prerequisite_metadata.jsonl"
    if metadata_path.exists():
        label = f"{edge['from']} -> {edge['to']}"
        kept = [
            obj for obj in read(metadata_path) if obj["edge"] not in (label, {"id": edge.get("id")})
        ]
        if kept:
            write(metadata_path, kept)
        else:
            metadata_path.unlink()


#: Each edit, the message of its revision, and what ``seeds revision`` must say about it.
EDITS: list[tuple[str, Callable[[Path], None], str]] = [
    ("fix a hebrew name", fix_a_hebrew_name, "  Translation: +0 ~1 -0"),
    ("rename an english text", rename_an_english_text, "Wrote the edit of Translation "),
    ("add a module with questions", add_a_module_with_questions, "Gave ids to "),
    ("delete a prerequisite edge", delete_a_prerequisite_edge, "  BlockRelationship: +0 ~0 -1"),
    ("rename a module", rename_a_module, "Rewrote "),
]


def seeds(project: Path, *args: str) -> str:
    result = CliRunner().invoke(seeds_main, ["-c", str(project / "alembic.ini"), *args])
    assert result.exit_code == 0, result.output
    return result.output


def data_tests(project: Path) -> subprocess.CompletedProcess[str]:
    """The data tests (``-m data``), run on ``project`` in a pytest of their own."""
    env = {**os.environ, PROJECT_ENV: str(project)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-m",
            "data",
            "tests/data",
        ],
        cwd=REPOSITORY_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_five_edits_each_captured_by_a_revision_pass_the_data_tests(tmp_path: Path) -> None:
    project = copy_live_project(tmp_path / "project")
    for message, edit, says in EDITS:
        edit(project / "seeddata")
        out = seeds(project, "revision", "--autogenerate", "-m", message)
        assert out.startswith("Generated "), out
        assert any(line.startswith(says) for line in out.splitlines()), out
    result = data_tests(project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_an_edit_without_its_revision_fails_the_data_tests_as_seeds_check_says(
    tmp_path: Path,
) -> None:
    project = copy_live_project(tmp_path / "project")
    fix_a_hebrew_name(project / "seeddata")
    result = data_tests(project)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert "seeds check --branch seeds failed" in result.stdout
    assert "that no data revision of branch seeds captures" in result.stdout
    assert 'Run `seeds revision --autogenerate -m "..."`' in result.stdout
