"""Every kind of edit of ``seeddata/``, as a data revision, up and down, on both backends.

Each test starts from state A (the project's first data revision applied), edits the seed
data as a person would (one JSON line at a time: a text used in several places is edited in
one of them, a renamed row on its own line only), generates a revision, checks its change
counts, upgrades, compares the database with ``seeddata/`` table by table, downgrades, and
checks that the database is byte for byte state A again.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from frozen_lumina.models import metadata

from alembic_seeds import commands
from alembic_seeds.changes.changeset import Dataset, Key, from_document
from alembic_seeds.errors import DatasetError
from alembic_seeds.migration.autogenerate import Generated, autogenerate, pending_changes
from tests.fixture_projects import project_files
from tests.scratch import (
    BINARY_TREE_QUESTION,
    CHOICE,
    DATA_MINING,
    LINEAR_ALGEBRA_2,
    LINEAR_ALGEBRA_2_HE_FIXED,
    NEW_FREE_TEXT,
    NUMBER_ANSWER,
    PUBLISHED_AT,
    SEVERAL_TABLES,
    JsonObject,
    Scratch,
    assert_same,
    counts,
    dump,
    edit_several_tables,
    make_scratch,
)

OPEN_UNIVERSITY = "The Open University Of Israel"
MANAGEMENT_COLLEGE = "The College of Management Academic Studies"

COURSES = "catalog/courses.jsonl"
DEGREES = "catalog/degrees.jsonl"
MODULES = "curriculum/modules.jsonl"
PREREQUISITES = "curriculum/prerequisites.jsonl"
PREREQUISITE_METADATA = "curriculum/prerequisite_metadata.jsonl"
QUESTIONS = "questions/questions.jsonl"
ANSWERS = "questions/answers.jsonl"
CHOICES = "questions/choices.jsonl"
NUMBER_ANSWERS = "questions/number_answers.jsonl"
TRANSLATIONS = "translations.jsonl"

#: The text of the course "Linear Algebra 1" (two courses, at two universities, share it).
LINEAR_ALGEBRA_1 = "f0ae6d1b-c1c6-4d2f-ba0d-5eade0cb623b"
LINEAR_ALGEBRA_1_HE = "אלגברה ליניארית 1"
LINEAR_ALGEBRA_1_HE_FIXED = "אלגברה לינארית 1"
#: "Computer Science": the name of two degrees and of a discipline.
COMPUTER_SCIENCE = "63e95b0b-85de-4c54-b6af-face80091bb4"
#: Two degrees of the Open University.
OU_COMPUTER_SCIENCE = "73ef0be5-bd20-4181-aa70-52cf19ac5a9c"
OU_MATHEMATICS = "43eae81a-0c42-4e5c-894d-bd803334f0cd"

Counts = dict[str, tuple[int, int, int]]


@pytest.fixture
def scratch(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Scratch:
    """A copy of the project on a fresh database, at state A (everything applied)."""
    project = make_scratch(tmp_path, db_url, monkeypatch)
    project.upgrade("heads")
    return project


@dataclass
class EditRun:
    state_a: Dataset
    after: Dataset
    generated: Generated


def run_edit(scratch: Scratch, edit: Callable[[Scratch], None], expected: Counts) -> EditRun:
    """Edit, generate, check the counts, upgrade, compare, downgrade, compare with state A."""
    state_a = scratch.content()
    edit(scratch)
    generated = scratch.generate("an edit")
    assert generated.sidecar is None
    assert counts(generated.changes) == expected

    scratch.upgrade()
    after = scratch.content()
    assert_same(after, scratch.expected(), "after the upgrade")
    assert not pending_changes(scratch.project, "seeds").changes, "seeddata/ not fully captured"
    upgraded = scratch.log()[-1]
    assert (upgraded.revision, upgraded.direction) == (generated.revision, "upgrade")
    assert written(upgraded.counts) == expected
    assert scratch.versions_applied() >= {generated.revision}

    scratch.downgrade()
    assert dump(scratch.content()) == dump(state_a), "downgrade did not restore state A"
    downgraded = scratch.log()[-1]
    assert (downgraded.revision, downgraded.direction) == (generated.revision, "downgrade")
    assert written(downgraded.counts) == {t: (d, u, i) for t, (i, u, d) in expected.items()}
    assert generated.revision not in scratch.versions_applied()
    return EditRun(state_a, after, generated)


def written(log_counts: dict[str, dict[str, int]]) -> Counts:
    """Rows written per table as the log table records them (tables with writes only)."""
    return {
        table: (c["inserted"], c["updated"], c["deleted"])
        for table, c in log_counts.items()
        if c["inserted"] or c["updated"] or c["deleted"]
    }


def referrers(dataset: Dataset, table: str, key: str) -> set[tuple[str, Key, str]]:
    """(table, key, column) of every row whose foreign key points at ``table`` ``key``."""
    found = set()
    for name, rows in dataset.items():
        columns = [
            fk.parent.name
            for fk in metadata.tables[name].foreign_keys
            if fk.column.table.name == table
        ]
        for row_key, row in rows.items():
            found |= {(name, row_key, column) for column in columns if row[column] == key}
    return found


def new_id() -> str:
    return str(uuid.uuid4())


def edit_copy(project: Scratch, file: str, text_id: str, university: str, **text: str) -> None:
    """Edit the text ``text_id`` on the one line of ``file`` that is at ``university``."""
    project.edit(
        file,
        lambda obj: obj["name"]["id"] == text_id and obj["university"] == university,
        lambda obj: obj["name"].update(text),
    )


def rename_module(project: Scratch, module: str, new: str) -> None:
    """Rename ``module`` on its own line, and nowhere else."""
    project.edit(
        MODULES, lambda obj: obj["name"]["en"] == module, lambda obj: obj["name"].update(en=new)
    )


def copies_of(scratch: Scratch, translation_id: str) -> list[JsonObject]:
    """Every place ``seeddata/`` writes the text ``translation_id`` in full."""

    def found(value: Any) -> list[JsonObject]:
        if isinstance(value, dict):
            here = [value] if value.get("id") == translation_id and "en" in value else []
            return here + [text for item in value.values() for text in found(item)]
        if isinstance(value, list):
            return [text for item in value for text in found(item)]
        return []

    return [
        text
        for path in sorted(scratch.seeddata.rglob("*.jsonl"))
        for obj in scratch.lines(str(path.relative_to(scratch.seeddata)))
        for text in found(obj)
    ]


def label_uses(scratch: Scratch, label: str) -> int:
    """How many references (``NAME``, ``module:NAME``, ``course:NAME``, an end of an edge)
    name ``label``; texts are not references."""

    def count(value: Any) -> int:
        if isinstance(value, str):
            parts = value.split(" -> ")
            return sum(
                part.removeprefix("module:").removeprefix("course:") == label for part in parts
            )
        if isinstance(value, list):
            return sum(count(item) for item in value)
        if isinstance(value, dict) and "en" not in value:
            return sum(count(item) for name, item in value.items() if name != "id")
        return 0

    return sum(
        count(obj)
        for path in sorted(scratch.seeddata.rglob("*.jsonl"))
        for obj in scratch.lines(str(path.relative_to(scratch.seeddata)))
    )


# --- (a) a Hebrew text fixed -------------------------------------------------------------


def test_hebrew_fix_is_one_update_of_its_translation(scratch: Scratch) -> None:
    def edit(project: Scratch) -> None:
        # The text is written once per course using it; every copy is fixed.
        assert project.set_text(LINEAR_ALGEBRA_1, he=LINEAR_ALGEBRA_1_HE_FIXED) == 2

    run = run_edit(scratch, edit, {"Translation": (0, 1, 0)})
    assert run.generated.text_edits == ()
    assert run.state_a["Translation"][(LINEAR_ALGEBRA_1,)]["he_text"] == LINEAR_ALGEBRA_1_HE
    assert run.after["Translation"][(LINEAR_ALGEBRA_1,)] == {
        "id": LINEAR_ALGEBRA_1,
        "en_text": "Linear Algebra 1",
        "he_text": LINEAR_ALGEBRA_1_HE_FIXED,
    }
    (update,) = run.generated.changes.tables["Translation"].updates
    assert update.key == {"id": LINEAR_ALGEBRA_1}
    assert update.before == {"he_text": LINEAR_ALGEBRA_1_HE}
    assert update.after == {"he_text": LINEAR_ALGEBRA_1_HE_FIXED}


def test_hebrew_fix_of_a_shared_text_in_one_copy_is_written_into_every_copy(
    scratch: Scratch,
) -> None:
    """Only the Open University's course line is edited; the revision takes the edit and
    writes it into the other course's line too."""

    def edit(project: Scratch) -> None:
        edit_copy(project, COURSES, LINEAR_ALGEBRA_1, OPEN_UNIVERSITY, he=LINEAR_ALGEBRA_1_HE_FIXED)

    run = run_edit(scratch, edit, {"Translation": (0, 1, 0)})
    (update,) = run.generated.changes.tables["Translation"].updates
    assert (update.key, update.before, update.after) == (
        {"id": LINEAR_ALGEBRA_1},
        {"he_text": LINEAR_ALGEBRA_1_HE},
        {"he_text": LINEAR_ALGEBRA_1_HE_FIXED},
    )
    copies = copies_of(scratch, LINEAR_ALGEBRA_1)
    assert len(copies) == 2
    assert {copy["he"] for copy in copies} == {LINEAR_ALGEBRA_1_HE_FIXED}
    (text_edit,) = run.generated.text_edits
    assert (text_edit.places, text_edit.rewritten) == (2, 1)


# --- (b) an English text renamed -----------------------------------------------------------


def test_renaming_a_shared_text_in_one_copy_updates_it_in_place(scratch: Scratch) -> None:
    """ "Computer Science" names two degrees and a discipline; one degree's line is edited.
    The other copies follow, and so do the courses that list those degrees by label
    (``Computer Science @ UNIVERSITY``): the person edits one line."""
    old, new = "Computer Science", "Computer Sciences"
    labels = [f"{old} @ {university}" for university in (OPEN_UNIVERSITY, MANAGEMENT_COLLEGE)]

    def edit(project: Scratch) -> None:
        edit_copy(project, DEGREES, COMPUTER_SCIENCE, OPEN_UNIVERSITY, en=new)

    state_a = scratch.content()
    users = referrers(state_a, "Translation", COMPUTER_SCIENCE)
    assert {table for table, _, _ in users} == {"Degree", "Discipline"}
    assert len(users) == 3
    references = sum(label_uses(scratch, label) for label in labels)
    assert references > 10

    run = run_edit(scratch, edit, {"Translation": (0, 1, 0)})
    assert run.after["Translation"][(COMPUTER_SCIENCE,)]["en_text"] == new
    assert referrers(run.after, "Translation", COMPUTER_SCIENCE) == users
    # Nothing else moved: the degrees keep their ids and their courses.
    for table in ("Degree", "Discipline", "_CourseToDegree"):
        assert run.after[table] == state_a[table]
    # seeddata/ now says the new name everywhere.
    assert {copy["en"] for copy in copies_of(scratch, COMPUTER_SCIENCE)} == {new}
    assert sum(label_uses(scratch, label) for label in labels) == 0
    assert sum(label_uses(scratch, label.replace(old, new)) for label in labels) == references
    renamed = {(rename.table, rename.before) for rename in run.generated.renames}
    assert renamed == {("Degree", label) for label in labels}


#: Modules referred to by name: "Combinatorics" by 16 sub-modules, 8 questions and a
#: prerequisite edge; "Linear Equations" by 10 questions and two edges with metadata.
RENAMED_MODULES = ("Combinatorics", "Linear Equations")


@pytest.mark.parametrize("module", RENAMED_MODULES)
def test_renaming_a_module_on_its_own_line_updates_its_text_and_keeps_every_link(
    scratch: Scratch, module: str
) -> None:
    """A module is referred to by name (parents, questions, prerequisite edges and their
    metadata). Only the module's own line is edited: the revision is the one update of its
    text and rewrites the references; in the database nothing else changes."""
    (text,) = [obj["name"] for obj in scratch.lines(MODULES) if obj["name"]["en"] == module]
    references = label_uses(scratch, module)
    assert references >= 3
    new = f"{module} (revised)"

    state_a = scratch.content()
    run = run_edit(
        scratch, lambda project: rename_module(project, module, new), {"Translation": (0, 1, 0)}
    )
    assert label_uses(scratch, module) == 0
    assert label_uses(scratch, new) == references
    ((table, before, after, rewritten),) = [
        (rename.table, rename.before, rename.after, len(rename.references))
        for rename in run.generated.renames
    ]
    assert (table, before, after, rewritten) == ("Module", module, new, references)
    assert run.after["Translation"][(text["id"],)] == {
        "id": text["id"],
        "en_text": new,
        "he_text": text["he"],
    }
    users = referrers(state_a, "Translation", text["id"])
    assert referrers(run.after, "Translation", text["id"]) == users
    (module_row,) = [
        row for row in state_a["Module"].values() if row["translationId"] == text["id"]
    ]
    linked = referrers(state_a, "Module", module_row["id"]) | referrers(
        state_a, "Block", module_row["blockId"]
    )
    assert len(linked) >= 3
    assert (
        referrers(run.after, "Module", module_row["id"])
        | referrers(run.after, "Block", module_row["blockId"])
    ) == linked
    unchanged = ("Module", "Block", "BlockRelationship", "RelationshipMetadata", "Question")
    for table in (*unchanged, "_ModuleHierarchy", "_ModuleToQuestion", "_CourseModules"):
        assert run.after[table] == state_a[table], table


def test_renaming_a_course_name_two_universities_share_renames_both_courses(
    scratch: Scratch,
) -> None:
    """A rename and a shared text at once: "Linear Algebra 1" names a course at two
    universities. Editing one course line renames the text, so both courses; the modules
    and prerequisite edges that name either course follow."""
    old, new = "Linear Algebra 1", "Linear Algebra I"
    courses = [obj for obj in scratch.lines(COURSES) if obj["name"]["id"] == LINEAR_ALGEBRA_1]
    labels = [f"{old} @ {obj['university']}" for obj in courses]
    assert len(labels) == 2
    references = {label: label_uses(scratch, label) for label in labels}
    assert sum(references.values()) >= 1

    def edit(project: Scratch) -> None:
        edit_copy(project, COURSES, LINEAR_ALGEBRA_1, OPEN_UNIVERSITY, en=new)

    state_a = scratch.content()
    run = run_edit(scratch, edit, {"Translation": (0, 1, 0)})
    for label, count in references.items():
        assert label_uses(scratch, label) == 0
        assert label_uses(scratch, label.replace(old, new)) == count
    assert {copy["en"] for copy in copies_of(scratch, LINEAR_ALGEBRA_1)} == {new}
    for table in ("Course", "Block", "BlockRelationship", "_CourseModules"):
        assert run.after[table] == state_a[table], table


def test_copies_edited_differently_stop_the_revision_and_write_nothing(
    sqlite_scratch: Scratch,
) -> None:
    scratch = sqlite_scratch
    for university, he in ((OPEN_UNIVERSITY, "אלגברה א"), (MANAGEMENT_COLLEGE, "אלגברה ב")):
        edit_copy(scratch, COURSES, LINEAR_ALGEBRA_1, university, he=he)
    files = project_files(scratch.root)

    with pytest.raises(DatasetError) as raised:
        autogenerate(scratch.project, "two fixes")

    (problem,) = raised.value.problems
    assert problem.rule == "conflicting-definition"
    assert '"he": "אלגברה א"' in problem.detail
    assert '"he": "אלגברה ב"' in problem.detail
    assert f'the data revisions hold {{"he": "{LINEAR_ALGEBRA_1_HE}"}}' in problem.detail
    assert project_files(scratch.root) == files


def test_revision_says_which_text_it_wrote_into_how_many_places(sqlite_scratch: Scratch) -> None:
    scratch = sqlite_scratch
    edit_copy(scratch, COURSES, LINEAR_ALGEBRA_1, OPEN_UNIVERSITY, he=LINEAR_ALGEBRA_1_HE_FIXED)
    outcome = commands.revision(scratch.project, "fix the Hebrew name", rev_id="aaaabbbbcccc")
    assert outcome.exit_code == 0
    assert outcome.lines[1:] == [
        "  Translation: +0 ~1 -0",
        f'Wrote the edit of Translation {LINEAR_ALGEBRA_1!r} (he "{LINEAR_ALGEBRA_1_HE}" -> '
        f'"{LINEAR_ALGEBRA_1_HE_FIXED}") into 1 more place of seeddata/ (2 in all)',
    ]


def test_revision_says_which_references_it_rewrote(sqlite_scratch: Scratch) -> None:
    scratch = sqlite_scratch
    references = label_uses(scratch, "Combinatorics")
    rename_module(scratch, "Combinatorics", "Combinatorics (revised)")
    outcome = commands.revision(scratch.project, "rename", rev_id="aaaabbbbcccc")
    assert outcome.lines[1:] == [
        "  Translation: +0 ~1 -0",
        f"Rewrote {references} references in {references} lines of seeddata/ to Module "
        '"Combinatorics", now "Combinatorics (revised)"',
    ]


# --- (c) a module added, with its questions ------------------------------------------------


def test_adding_a_module_with_questions_inserts_everything_it_needs(scratch: Scratch) -> None:
    module_id, name_id = new_id(), new_id()
    choice_question, number_question = new_id(), new_id()
    choice_answer, number_answer = new_id(), new_id()
    yes = next(
        obj["text"] for obj in scratch.lines(CHOICES) if obj["text"]["en"] == "Yes"
    )  # a text many choices share: reused, not inserted again
    choice_text_id = new_id()
    module_name = "Ramsey Numbers"
    first_question = "Does every 13 people include two born in the same month"
    second_question = "How many socks guarantee a matching pair out of 3 colours"
    course = f"Discrete Mathematics @ {OPEN_UNIVERSITY}"

    def edit(project: Scratch) -> None:
        project.write(
            MODULES,
            [
                *project.lines(MODULES),
                {
                    "id": module_id,
                    "block": module_id,
                    "parents": ["Combinatorics"],
                    "courses": [course],
                    "name": {"id": name_id, "en": module_name, "he": "מספרי רמזי"},
                },
            ],
        )
        project.write(
            QUESTIONS,
            [
                *project.lines(QUESTIONS),
                {
                    "id": choice_question,
                    "modules": [module_name],
                    "type": "selection",
                    "status": "ai_generated",
                    "text": {
                        "id": choice_question,
                        "en": first_question,
                        "he": "האם בכל 13 אנשים יש שניים שנולדו באותו חודש",
                    },
                },
                {
                    "id": number_question,
                    "modules": [module_name],
                    "type": "value",
                    "status": "approved",
                    "text": {
                        "id": new_id(),
                        "en": second_question,
                        "he": "כמה גרביים מבטיחות זוג תואם מתוך 3 צבעים",
                    },
                },
            ],
        )
        project.write(
            ANSWERS,
            [
                *project.lines(ANSWERS),
                {"id": choice_answer, "question": first_question},
                {"id": number_answer, "question": second_question},
            ],
        )
        project.write(
            CHOICES,
            [
                *project.lines(CHOICES),
                {"id": new_id(), "answer": first_question, "correct": True, "text": yes},
                {
                    "id": new_id(),
                    "answer": first_question,
                    "correct": False,
                    "text": {
                        "id": choice_text_id,
                        "en": "Only in a leap year",
                        "he": "רק בשנה מעוברת",
                    },
                },
            ],
        )
        project.write(
            NUMBER_ANSWERS,
            [
                *project.lines(NUMBER_ANSWERS),
                {"id": new_id(), "answer": second_question, "value": 4.0},
            ],
        )

    run = run_edit(
        scratch,
        edit,
        {
            "Answer": (2, 0, 0),
            "Block": (1, 0, 0),
            "Module": (1, 0, 0),
            "NumberAnswer": (1, 0, 0),
            "Question": (2, 0, 0),
            "SelectAnswer": (2, 0, 0),
            "Translation": (4, 0, 0),
            "_CourseModules": (1, 0, 0),
            "_ModuleHierarchy": (1, 0, 0),
            "_ModuleToQuestion": (2, 0, 0),
        },
    )
    after = run.after
    assert after["Module"][(module_id,)] == {
        "id": module_id,
        "translationId": name_id,
        "blockId": module_id,
    }
    assert (module_id,) in after["Block"]
    combinatorics = next(
        row["id"]
        for row in after["Module"].values()
        if after["Translation"][(row["translationId"],)]["en_text"] == "Combinatorics"
    )
    assert (module_id, combinatorics) in after["_ModuleHierarchy"]  # A: the sub-module
    assert {(module_id, choice_question), (module_id, number_question)} <= set(
        after["_ModuleToQuestion"]
    )
    assert after["Question"][(number_question,)]["validationStatus"] == "approved"
    choices = [row for row in after["SelectAnswer"].values() if row["answerId"] == choice_answer]
    assert sorted((row["isCorrect"], row["translationId"]) for row in choices) == [
        (False, choice_text_id),
        (True, yes["id"]),
    ]
    (number,) = [row for row in after["NumberAnswer"].values() if row["answerId"] == number_answer]
    assert number["value"] == 4.0


# --- (d) a course moved to another degree --------------------------------------------------


def test_moving_a_course_to_another_degree_relinks_it(scratch: Scratch) -> None:
    course_name = "Data Mining"
    source, target = "Computer Science", "Mathematics"

    def edit(project: Scratch) -> None:
        def move(obj: JsonObject) -> None:
            assert obj["degrees"] == [f"{source} @ {OPEN_UNIVERSITY}"]
            obj["degrees"] = [f"{target} @ {OPEN_UNIVERSITY}"]

        project.edit(COURSES, lambda obj: obj["name"]["en"] == course_name, move)

    state_a = scratch.content()
    run = run_edit(scratch, edit, {"_CourseToDegree": (1, 0, 1)})
    course = "8209acb5-9531-4a34-9036-e3a681349bb4"
    assert state_a["Course"][(course,)]["translationId"] == "8b9cde61-4a1d-4e8d-800b-f41449623a07"
    changes = run.generated.changes.tables["_CourseToDegree"]
    assert changes.deletes == [{"A": course, "B": OU_COMPUTER_SCIENCE}]
    assert changes.inserts == [{"A": course, "B": OU_MATHEMATICS}]
    assert (course, OU_MATHEMATICS) in run.after["_CourseToDegree"]
    assert (course, OU_COMPUTER_SCIENCE) not in run.after["_CourseToDegree"]
    assert (course, OU_COMPUTER_SCIENCE) in state_a["_CourseToDegree"]
    assert run.after["Course"] == state_a["Course"]
    assert run.after["Degree"] == state_a["Degree"]


# --- (e) a prerequisite edge deleted -------------------------------------------------------


#: Two edges and how many metadata rows each has; the second one's only metadata row has
#: the empty string as id.
DELETED_EDGES = {
    f"course:Linear Algebra 1 @ {OPEN_UNIVERSITY} -> course:Linear Algebra 2 @ "
    f"{OPEN_UNIVERSITY}": 2,
    "module:SI System -> module:One Dimensional Kinematics": 1,
}


def test_deleting_prerequisite_edges_deletes_them_and_downgrade_restores_them(
    scratch: Scratch,
) -> None:
    ids = {}
    for edge in DELETED_EDGES:
        source, target = edge.split(" -> ")
        (line,) = [
            obj
            for obj in scratch.lines(PREREQUISITES)
            if (obj["from"], obj["to"]) == (source, target)
        ]
        ids[edge] = line["id"]

    def edit(project: Scratch) -> None:
        kept = [obj for obj in project.lines(PREREQUISITES) if obj["id"] not in ids.values()]
        assert len(project.lines(PREREQUISITES)) - len(kept) == len(ids)
        project.write(PREREQUISITES, kept)
        metadata_kept = [
            obj for obj in project.lines(PREREQUISITE_METADATA) if obj["edge"] not in ids
        ]
        project.write(PREREQUISITE_METADATA, metadata_kept)

    metadata_rows = sum(DELETED_EDGES.values())
    run = run_edit(
        scratch,
        edit,
        {"BlockRelationship": (0, 0, 2), "RelationshipMetadata": (0, 0, metadata_rows)},
    )
    changes = run.generated.changes.tables
    deleted = {row["id"]: row for row in changes["BlockRelationship"].deletes}
    assert sorted(deleted) == sorted(ids.values())
    assert "" in {row["id"] for row in changes["RelationshipMetadata"].deletes}
    restored = scratch.content()  # after the downgrade, checked byte for byte in run_edit
    for edge, edge_id in ids.items():
        # The delete holds the whole row, so that the downgrade can put it back with its id.
        assert deleted[edge_id] == run.state_a["BlockRelationship"][(edge_id,)]
        assert (edge_id,) not in run.after["BlockRelationship"]
        assert not referrers(run.after, "BlockRelationship", edge_id)
        assert restored["BlockRelationship"][(edge_id,)] == deleted[edge_id]
        assert len(referrers(restored, "BlockRelationship", edge_id)) == DELETED_EDGES[edge]
    assert ("",) in restored["RelationshipMetadata"]


# --- (f) several tables at once ------------------------------------------------------------


def test_an_edit_of_several_tables_is_one_revision(scratch: Scratch) -> None:
    dropped = scratch.lines(TRANSLATIONS)[0]
    run = run_edit(scratch, edit_several_tables, SEVERAL_TABLES)
    after, before = run.after, run.state_a
    assert before["Course"][(DATA_MINING,)]["publishedAt"] is None
    assert after["Course"][(DATA_MINING,)]["publishedAt"] == PUBLISHED_AT
    assert before["NumberAnswer"][(NUMBER_ANSWER,)]["value"] == 2.0
    assert after["NumberAnswer"][(NUMBER_ANSWER,)]["value"] == 3.5
    assert after["SelectAnswer"][(CHOICE,)]["isCorrect"] is (
        not before["SelectAnswer"][(CHOICE,)]["isCorrect"]
    )
    assert (dropped["id"],) in before["Translation"]
    assert (dropped["id"],) not in after["Translation"]
    assert after["Translation"][(NEW_FREE_TEXT["id"],)] == {
        "id": NEW_FREE_TEXT["id"],
        "en_text": NEW_FREE_TEXT["en"],
        "he_text": NEW_FREE_TEXT["he"],
    }
    assert after["Translation"][(LINEAR_ALGEBRA_2,)]["he_text"] == LINEAR_ALGEBRA_2_HE_FIXED
    assert before["Question"][(BINARY_TREE_QUESTION,)]["validationStatus"] == "ai_generated"
    assert after["Question"][(BINARY_TREE_QUESTION,)]["validationStatus"] == "approved"
    links = [key for key in after["_ModuleToQuestion"] if key[1] == BINARY_TREE_QUESTION]
    assert len(links) == 2


# --- (g) up, down, up ----------------------------------------------------------------------


def test_upgrade_downgrade_upgrade_gives_identical_tables(scratch: Scratch) -> None:
    state_a = dump(scratch.content())
    edit_several_tables(scratch)
    generated = scratch.generate("several tables")
    scratch.upgrade()
    first = dump(scratch.content())
    scratch.downgrade()
    assert dump(scratch.content()) == state_a
    scratch.upgrade()
    assert dump(scratch.content()) == first
    log = [(e.revision, e.direction, e.checksum) for e in scratch.log()[1:]]
    checksum = generated.changes.checksum()
    assert log == [
        (generated.revision, "upgrade", checksum),
        (generated.revision, "downgrade", checksum),
        (generated.revision, "upgrade", checksum),
    ]


# --- (h) the revision file of a small edit -------------------------------------------------


@pytest.fixture
def sqlite_scratch(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Scratch:
    """A copy of the project on a SQLite file: enough to write and apply a revision file,
    which is the same whatever the database."""
    return make_scratch(tmp_path, sqlite_url, monkeypatch)


def test_revision_of_a_small_edit_is_inline_and_readable(sqlite_scratch: Scratch) -> None:
    scratch = sqlite_scratch
    scratch.set_text(LINEAR_ALGEBRA_1, he=LINEAR_ALGEBRA_1_HE_FIXED)
    generated = scratch.generate("fix the Hebrew name of Linear Algebra 1")
    assert generated.sidecar is None
    assert sorted(p.name for p in scratch.versions.iterdir() if p.suffix == ".jsonl") == [
        "20261128_3f0c2a1b9d47_import_the_lumina_reference_data.changes.jsonl"
    ], "a small revision must not write a sidecar"
    text = generated.path.read_text(encoding="utf-8")
    lines = text.splitlines()

    # The change is labelled with its text in both languages, written as is.
    label = f"# Linear Algebra 1 | {LINEAR_ALGEBRA_1_HE_FIXED}"
    (at,) = [i for i, line in enumerate(lines) if line.strip() == label]
    # ... and right under the label, the change with its key and its values before and after.
    change = lines[at + 1]
    assert LINEAR_ALGEBRA_1 in change
    assert f'"before": {{"he_text": "{LINEAR_ALGEBRA_1_HE}"}}' in change
    assert f'"after": {{"he_text": "{LINEAR_ALGEBRA_1_HE_FIXED}"}}' in change
    assert "\\u05" not in text  # Hebrew is not escaped
    assert "Translation  +0 inserted  ~1 updated  -0 deleted" in text  # the summary

    # The literal in the file is exactly the change set.
    module = ast.parse(text)
    (assigned,) = [
        node.value
        for node in module.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "CHANGES"
    ]
    assert assigned is not None
    document = ast.literal_eval(assigned)
    assert from_document(document).checksum() == generated.changes.checksum()

    scratch.upgrade("heads")
    assert scratch.content()["Translation"][(LINEAR_ALGEBRA_1,)]["he_text"] == (
        LINEAR_ALGEBRA_1_HE_FIXED
    )
