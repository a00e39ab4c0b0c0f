"""Data test: the shapes of the service's later schema, written through the spec.

A degree's faculty and a true-or-false question with its boolean answer go into a copy of
the live ``seeddata/`` as a person writes them, ``seeds revision --autogenerate`` captures
them, ``alembic upgrade heads`` writes them, and the database holds them; the revision
downgrades exactly. The rows are chosen by their shape (a degree of a university that has a
faculty), never by their values, so that this holds whatever the live data holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from alembic_seeds.commands import check, revision
from alembic_seeds.migration.config import SeedsProject
from tests.databases import hand_engine
from tests.live_project import copy_live_project

pytestmark = pytest.mark.data

JsonObject = dict[str, Any]
QUESTION = {"en": "A tree with n nodes has n - 1 edges.", "he": "לעץ עם n צמתים יש n - 1 קשתות."}


def read(path: Path) -> list[JsonObject]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, objects: list[JsonObject]) -> None:
    text = "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)
    path.write_text(text, encoding="utf-8")


def config(root: Path) -> Config:
    config = Config(str(root / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


def give_a_degree_its_faculty(seeddata: Path) -> tuple[str, str]:
    """(degree id, faculty id): the first degree whose university has a faculty."""
    faculties = read(seeddata / "institutions" / "faculties.jsonl")
    by_university = {faculty["university"]: faculty for faculty in reversed(faculties)}
    degrees = read(seeddata / "catalog" / "degrees.jsonl")
    for degree in degrees:
        faculty = by_university.get(degree["university"])
        if faculty is not None and "faculty" not in degree:
            degree["faculty"] = f"{faculty['name']['en']} @ {faculty['university']}"
            write(seeddata / "catalog" / "degrees.jsonl", degrees)
            return degree["id"], faculty["id"]
    pytest.fail("no degree of a university that has a faculty")


def add_a_true_or_false_question(seeddata: Path) -> None:
    questions = seeddata / "questions"
    write(
        questions / "questions.jsonl",
        [
            *read(questions / "questions.jsonl"),
            {"type": "boolean", "status": "approved", "text": QUESTION},
        ],
    )
    write(
        questions / "answers.jsonl",
        [*read(questions / "answers.jsonl"), {"question": QUESTION["en"]}],
    )
    path = questions / "boolean_answers.jsonl"
    write(path, [*read(path), {"answer": QUESTION["en"], "value": True}])


def test_a_degree_faculty_and_a_boolean_answer_through_the_spec(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_live_project(tmp_path / "lumina")
    seeddata = root / "seeddata"
    degree, faculty = give_a_degree_its_faculty(seeddata)
    add_a_true_or_false_question(seeddata)
    project = SeedsProject.from_config(config(root))
    outcome = revision(project, "a degree's faculty, a true-or-false question")
    assert outcome.exit_code == 0, outcome.output
    counts = dict(
        line.strip().split(": ", 1) for line in outcome.lines if re.match(r"  \w+: \+", line)
    )
    assert counts["BooleanAnswer"] == "+1 ~0 -0", outcome.output
    assert counts["Degree"] == "+0 ~1 -0", outcome.output
    assert check(SeedsProject.from_config(config(root))).exit_code == 0

    monkeypatch.setenv("DATABASE_URL", db_url)
    command.upgrade(config(root), "heads")
    engine = hand_engine(db_url)
    try:
        with engine.connect() as connection:
            assert (
                connection.execute(
                    sa.text('SELECT "facultyId" FROM "Degree" WHERE id = :id'), {"id": degree}
                ).scalar_one()
                == faculty
            )
            found = connection.execute(
                sa.text(
                    'SELECT q.type, b.value FROM "Question" q JOIN "Translation" t'
                    ' ON t.id = q."translationId" JOIN "Answer" a ON a."questionId" = q.id'
                    ' JOIN "BooleanAnswer" b ON b."answerId" = a.id WHERE t.en_text = :text'
                ),
                {"text": QUESTION["en"]},
            ).one()
            assert tuple(found) == ("boolean", True)
        command.downgrade(config(root), "seeds@-1")
        with engine.connect() as connection:
            assert (
                connection.execute(
                    sa.text('SELECT "facultyId" FROM "Degree" WHERE id = :id'), {"id": degree}
                ).scalar_one()
                is None
            )
            assert connection.execute(sa.text('SELECT count(*) FROM "BooleanAnswer"')).scalar() == 0
    finally:
        engine.dispose()
