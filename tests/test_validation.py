"""Validation of ``seeddata/``: every problem found, each named by file, line, rule and value.

Each test works on a private copy of the real ``seeddata/`` folder and makes one small,
targeted edit to it (a line appended, replaced or inserted), then checks what
``load_seeddata`` and ``seeds validate`` report. Problems are compared by path (as the
loader prints it for the folder it was given), line number and rule exactly; details are
checked for the offending value rather than word for word.

"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from frozen_lumina.models import metadata
from frozen_lumina.seeds import SPEC

from alembic_seeds.changes.changeset import Dataset
from alembic_seeds.cli import main
from alembic_seeds.dataset.load import LoadedDataset, Previous, load_seeddata, read_lines
from alembic_seeds.errors import DatasetError, Problem
from tests.fixture_projects import LUMINA, copy_project, project_files
from tests.reference import binary_trees_rows, reference_dataset

REAL_SEEDDATA = LUMINA / "seeddata"

UNIVERSITIES = "institutions/universities.jsonl"
DISCIPLINES = "institutions/disciplines.jsonl"
COURSES = "catalog/courses.jsonl"
MODULES = "curriculum/modules.jsonl"
PREREQUISITE_METADATA = "curriculum/prerequisite_metadata.jsonl"
QUESTIONS = "questions/questions.jsonl"
QUESTION_PARTS = "questions/question_parts.jsonl"
ANSWERS = "questions/answers.jsonl"
CHOICES = "questions/choices.jsonl"
NUMBER_ANSWERS = "questions/number_answers.jsonl"
UNIT_ANSWERS = "questions/unit_answers.jsonl"
TRANSLATIONS = "translations.jsonl"

#: A database nobody listens on: connecting to it would fail (or hang) at once.
UNREACHABLE_URL = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"

#: The form of one problem line printed by ``seeds validate``.
PROBLEM_LINE = re.compile(r"^\S+:\d+: [a-z-]+: .+")

#: Two answers of this question exist (``answers.jsonl`` lines 16 and 18): its label is
#: ambiguous, so the choices of one of them refer to it by id.
AMBIGUOUS_QUESTION = "Whether G is not a bipartite graph"


# --- the private copy and how to edit it -------------------------------------------------


@pytest.fixture
def seeddata(tmp_path: Path) -> Path:
    """A private copy of the real ``seeddata/`` folder, at ``tmp_path/project/seeddata``."""
    folder = tmp_path / "project" / "seeddata"
    shutil.copytree(REAL_SEEDDATA, folder)
    return folder


def shown(folder: Path, file: str) -> str:
    """The path of ``file`` of ``folder`` as the loader prints it.

    An absolute folder is printed relative to the working directory when it lies below it,
    else as it is; a relative folder is printed as given.
    """
    if folder.is_absolute():
        try:
            base = str(folder.relative_to(Path.cwd()))
        except ValueError:
            base = str(folder)
    else:
        base = str(folder)
    return f"{base}/{file}"


def lines_of(folder: Path, file: str) -> list[str]:
    """The lines of ``file``, split at "\\n" only, as the loader splits them."""
    lines = (folder / file).read_bytes().decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def write_lines(folder: Path, file: str, lines: list[str]) -> None:
    (folder / file).write_bytes("".join(f"{line}\n" for line in lines).encode("utf-8"))


def row_at(folder: Path, file: str, line: int) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(lines_of(folder, file)[line - 1])
    return row


def dump(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)


def append_lines(folder: Path, file: str, *texts: str) -> int:
    """Append ``texts`` as lines of ``file``; return the line number of the first one."""
    lines = lines_of(folder, file)
    write_lines(folder, file, [*lines, *texts])
    return len(lines) + 1


def replace_line(folder: Path, file: str, line: int, text: str) -> None:
    lines = lines_of(folder, file)
    lines[line - 1] = text
    write_lines(folder, file, lines)


def edit_row(folder: Path, file: str, line: int, edit: Callable[[dict[str, Any]], None]) -> None:
    """Replace line ``line`` of ``file`` by its row changed by ``edit``."""
    row = row_at(folder, file, line)
    edit(row)
    replace_line(folder, file, line, dump(row))


def setting(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(row: dict[str, Any]) -> None:
        row[name] = value

    return edit


def problems_of(folder: Path, previous: Previous = None) -> list[Problem]:
    """The problems ``load_seeddata`` raises for ``folder`` (it must raise)."""
    with pytest.raises(DatasetError) as raised:
        load_seeddata(folder, SPEC, metadata, previous=previous)
    problems = raised.value.problems
    assert problems, "DatasetError without problems"
    return problems


def only_problem(folder: Path, previous: Previous = None) -> Problem:
    problems = problems_of(folder, previous)
    assert len(problems) == 1, "expected one problem, got:\n" + "\n".join(map(str, problems))
    return problems[0]


def assert_problem(problem: Problem, path: str, line: int, rule: str, *fragments: str) -> None:
    """``problem`` is at ``path:line`` under ``rule`` and its detail names every fragment."""
    assert (problem.path, problem.line, problem.rule) == (path, line, rule), str(problem)
    for fragment in fragments:
        assert fragment in problem.detail, f"{fragment!r} not named in: {problem}"


def new_module(module_id: str, name: str, translation_id: str, he: str | None = None) -> str:
    """A module line; its text is new (``he`` defaults to the English name)."""
    return dump(
        {
            "id": module_id,
            "block": f"block-of-{module_id}",
            "name": {"id": translation_id, "en": name, "he": name if he is None else he},
        }
    )


def new_question(
    question_id: str, text: dict[str, Any], *, kind: str = "selection", status: str = "approved"
) -> str:
    return dump(
        {
            "id": question_id,
            "modules": ["Binary Trees"],
            "type": kind,
            "status": status,
            "text": text,
        }
    )


# --- the real data ----------------------------------------------------------------------


def test_copy_of_real_seeddata_loads_without_problems(seeddata: Path) -> None:
    loaded = load_seeddata(seeddata, SPEC, metadata)
    assert len(loaded.rows["Translation"]) == 650
    # The seed data holds exactly the reference data of the original seed.
    reference = reference_dataset()
    assert loaded.rows == {table: reference[table] for table in loaded.rows}
    assert set(reference) <= set(loaded.rows)


def test_copy_is_private(seeddata: Path) -> None:
    append_lines(seeddata, TRANSLATIONS, "not json")
    assert (REAL_SEEDDATA / TRANSLATIONS).read_bytes() != (seeddata / TRANSLATIONS).read_bytes()
    load_seeddata(REAL_SEEDDATA, SPEC, metadata)


# --- duplicate-id -----------------------------------------------------------------------


def test_duplicate_id_in_one_file(seeddata: Path) -> None:
    first = row_at(seeddata, MODULES, 1)
    line = append_lines(
        seeddata, MODULES, new_module(first["id"], "Measurement Errors", "tr-measurement-errors")
    )
    problem = only_problem(seeddata)
    assert line == 85
    assert_problem(
        problem,
        shown(seeddata, MODULES),
        85,
        "duplicate-id",
        repr(first["id"]),
        f"{shown(seeddata, MODULES)}:1",
    )


def test_duplicate_id_of_a_choice(seeddata: Path) -> None:
    choice = row_at(seeddata, CHOICES, 1)
    choice["correct"] = not choice["correct"]
    line = append_lines(seeddata, CHOICES, dump(choice))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, CHOICES),
        line,
        "duplicate-id",
        repr(choice["id"]),
        f"{shown(seeddata, CHOICES)}:1",
    )


def test_same_link_twice_on_one_line(seeddata: Path) -> None:
    edit_row(seeddata, MODULES, 2, setting("parents", ["SI System", "SI System"]))
    assert_problem(
        only_problem(seeddata), shown(seeddata, MODULES), 2, "duplicate-id", "_ModuleHierarchy"
    )


def test_line_copied_verbatim_is_duplicate_id(seeddata: Path) -> None:
    copy = lines_of(seeddata, CHOICES)[0]
    line = append_lines(seeddata, CHOICES, copy)
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, CHOICES),
        line,
        "duplicate-id",
        repr(json.loads(copy)["id"]),
    )


# --- duplicate-key ----------------------------------------------------------------------


def test_two_modules_named_the_same(seeddata: Path) -> None:
    first = append_lines(
        seeddata,
        MODULES,
        new_module("module-topology-1", "Topology", "tr-topology-1", "טופולוגיה"),
        new_module("module-topology-2", "Topology", "tr-topology-2", "טופולוגיה קבוצתית"),
    )
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, MODULES),
        first + 1,
        "duplicate-key",
        "'Topology'",
        f"{shown(seeddata, MODULES)}:{first}",
    )


def test_module_named_like_an_existing_one(seeddata: Path) -> None:
    """A second "Basic Units": its name is taken. The references to "Basic Units" (a
    question's modules, a prerequisite edge from module:Basic Units) are ambiguous because
    of it: they follow from the one mistake and are not listed."""
    line = append_lines(seeddata, MODULES, new_module("module-basic-2", "Basic Units", "tr-bu-2"))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, MODULES),
        line,
        "duplicate-key",
        "'Basic Units'",
        f"{shown(seeddata, MODULES)}:2",
    )


def test_two_universities_named_the_same(seeddata: Path) -> None:
    line = append_lines(
        seeddata,
        UNIVERSITIES,
        dump({"id": "u-2", "name": {"id": "tr-u-2", "en": "Tel Aviv", "he": "תל אביב"}}),
        dump({"id": "u-3", "name": {"id": "tr-u-3", "en": "Tel Aviv", "he": "אוניברסיטת תל אביב"}}),
    )
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, UNIVERSITIES),
        line + 1,
        "duplicate-key",
        "'Tel Aviv'",
    )


def test_two_translations_with_the_same_texts(seeddata: Path) -> None:
    """Translation (en_text, he_text) is unique in the database: two ids, one text, refused."""
    first = row_at(seeddata, TRANSLATIONS, 1)
    line = append_lines(seeddata, TRANSLATIONS, dump({**first, "id": "tr-copy"}))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, TRANSLATIONS),
        line,
        "duplicate-key",
        repr(first["en"]),
        f"{shown(seeddata, TRANSLATIONS)}:1",
    )


def test_two_parts_of_a_question_with_the_same_order(seeddata: Path) -> None:
    """QuestionPart (questionId, order) is unique in the database."""
    part = row_at(seeddata, QUESTION_PARTS, 1)
    line = append_lines(
        seeddata, QUESTION_PARTS, dump({**part, "id": "part-copy", "part": AMBIGUOUS_QUESTION})
    )
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, QUESTION_PARTS),
        line,
        "duplicate-key",
        "order",
        f"{shown(seeddata, QUESTION_PARTS)}:1",
    )


# --- missing-reference ------------------------------------------------------------------


def test_parent_module_that_does_not_exist(seeddata: Path) -> None:
    edit_row(seeddata, MODULES, 2, setting("parents", ["No Such Module"]))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, MODULES),
        2,
        "missing-reference",
        "parents",
        "'No Such Module'",
    )


def test_choice_of_an_unknown_answer_label(seeddata: Path) -> None:
    edit_row(seeddata, CHOICES, 1, setting("answer", "What is the meaning of life"))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, CHOICES),
        1,
        "missing-reference",
        "answer",
        "'What is the meaning of life'",
    )


def test_choice_of_an_unknown_answer_id(seeddata: Path) -> None:
    edit_row(seeddata, CHOICES, 55, setting("answer", {"id": "NO-SUCH-ANSWER"}))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, CHOICES),
        55,
        "missing-reference",
        "answer",
        "'NO-SUCH-ANSWER'",
    )


def test_course_of_an_unknown_university(seeddata: Path) -> None:
    edit_row(seeddata, COURSES, 1, setting("university", "Hogwarts"))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, COURSES),
        1,
        "missing-reference",
        "university",
        "'Hogwarts'",
    )


def test_question_text_by_id_that_does_not_exist(seeddata: Path) -> None:
    line = append_lines(seeddata, QUESTIONS, new_question("q-new", {"id": "no-such-translation"}))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, QUESTIONS),
        line,
        "missing-reference",
        "text",
        "'no-such-translation'",
    )


# --- ambiguous-reference ----------------------------------------------------------------


def test_choice_of_an_answer_label_two_answers_share(seeddata: Path) -> None:
    assert row_at(seeddata, ANSWERS, 16)["question"] == AMBIGUOUS_QUESTION
    assert row_at(seeddata, ANSWERS, 18)["question"] == AMBIGUOUS_QUESTION
    edit_row(seeddata, CHOICES, 55, setting("answer", AMBIGUOUS_QUESTION))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, CHOICES),
        55,
        "ambiguous-reference",
        "answer",
        repr(AMBIGUOUS_QUESTION),
    )


# --- wrong-type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "line", "field", "value", "named"),
    [
        pytest.param(TRANSLATIONS, 1, "en", 42, "42", id="number-for-string"),
        pytest.param(CHOICES, 1, "correct", "true", "'true'", id="string-for-boolean"),
        pytest.param(QUESTION_PARTS, 1, "order", 1.5, "1.5", id="float-for-integer"),
        pytest.param(QUESTION_PARTS, 1, "order", True, "True", id="boolean-for-integer"),
        pytest.param(NUMBER_ANSWERS, 1, "value", "2.0", "'2.0'", id="string-for-number"),
        pytest.param(COURSES, 1, "published_at", "yesterday", "'yesterday'", id="bad-date"),
        pytest.param(PREREQUISITE_METADATA, 1, "value", ["hard"], "['hard']", id="list"),
    ],
)
def test_wrong_type(
    seeddata: Path, file: str, line: int, field: str, value: Any, named: str
) -> None:
    edit_row(seeddata, file, line, setting(field, value))
    assert_problem(only_problem(seeddata), shown(seeddata, file), line, "wrong-type", field, named)


def test_null_for_a_required_value(seeddata: Path) -> None:
    edit_row(seeddata, QUESTION_PARTS, 1, setting("order", None))
    assert_problem(
        only_problem(seeddata), shown(seeddata, QUESTION_PARTS), 1, "wrong-type", "order", "null"
    )


def test_number_where_a_label_is_needed(seeddata: Path) -> None:
    edit_row(seeddata, NUMBER_ANSWERS, 1, setting("answer", 7))
    assert_problem(
        only_problem(seeddata), shown(seeddata, NUMBER_ANSWERS), 1, "wrong-type", "answer"
    )


def test_string_where_a_list_of_labels_is_needed(seeddata: Path) -> None:
    line = append_lines(seeddata, MODULES, new_module("m-new", "Topology", "tr-topology"))
    edit_row(seeddata, MODULES, line, setting("parents", "Basic Units"))
    assert_problem(only_problem(seeddata), shown(seeddata, MODULES), line, "wrong-type", "parents")


# --- unknown-column / missing-column ----------------------------------------------------


def test_unknown_column(seeddata: Path) -> None:
    edit_row(seeddata, QUESTIONS, 1, setting("difficulty", "hard"))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, QUESTIONS),
        1,
        "unknown-column",
        "'difficulty'",
    )


def test_unknown_column_inside_an_inline_text(seeddata: Path) -> None:
    line = append_lines(
        seeddata,
        QUESTIONS,
        new_question("q-new", {"id": "tr-new", "en": "Why?", "he": "למה?", "fr": "Pourquoi ?"}),
    )
    assert_problem(
        only_problem(seeddata), shown(seeddata, QUESTIONS), line, "unknown-column", "'fr'"
    )


@pytest.mark.parametrize(
    ("file", "line", "field"),
    [
        pytest.param(CHOICES, 1, "correct", id="choice-without-correct"),
        pytest.param(TRANSLATIONS, 1, "he", id="translation-without-he"),
        pytest.param(NUMBER_ANSWERS, 1, "value", id="number-answer-without-value"),
    ],
)
def test_missing_column(seeddata: Path, file: str, line: int, field: str) -> None:
    edit_row(seeddata, file, line, lambda row: row.pop(field))
    assert_problem(
        only_problem(seeddata), shown(seeddata, file), line, "missing-column", repr(field)
    )


# --- bad-enum ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "named"),
    [
        pytest.param("essay", "approved", "'essay'", id="type"),
        pytest.param("selection", "draft", "'draft'", id="status"),
    ],
)
def test_bad_enum_of_a_new_question(seeddata: Path, kind: str, status: str, named: str) -> None:
    line = append_lines(
        seeddata,
        QUESTIONS,
        new_question(
            "q-new", {"id": "tr-new", "en": "Why?", "he": "למה?"}, kind=kind, status=status
        ),
    )
    assert_problem(only_problem(seeddata), shown(seeddata, QUESTIONS), line, "bad-enum", named)


@pytest.mark.parametrize(
    ("file", "field", "value"),
    [
        pytest.param(PREREQUISITE_METADATA, "key", "WHY", id="metadata-key"),
        pytest.param(UNIT_ANSWERS, "unit", "inch", id="unit"),
        pytest.param(PREREQUISITE_METADATA, "key", 1, id="number-for-enum"),
    ],
)
def test_bad_enum(seeddata: Path, file: str, field: str, value: Any) -> None:
    edit_row(seeddata, file, 1, setting(field, value))
    assert_problem(only_problem(seeddata), shown(seeddata, file), 1, "bad-enum", repr(value))


def test_bad_enum_of_an_existing_question_is_the_only_problem(seeddata: Path) -> None:
    edit_row(seeddata, QUESTIONS, 1, setting("type", "essay"))
    assert_problem(only_problem(seeddata), shown(seeddata, QUESTIONS), 1, "bad-enum", "'essay'")


def test_bad_enum_of_an_existing_question_is_reported(seeddata: Path) -> None:
    edit_row(seeddata, QUESTIONS, 1, setting("type", "essay"))
    problems = problems_of(seeddata)
    bad = [problem for problem in problems if problem.rule == "bad-enum"]
    assert len(bad) == 1
    assert_problem(bad[0], shown(seeddata, QUESTIONS), 1, "bad-enum", "'essay'")


# --- malformed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "text", "named"),
    [
        pytest.param(TRANSLATIONS, '{"id": "t-new", "en": "x",', "invalid JSON", id="broken-json"),
        pytest.param(
            TRANSLATIONS,
            '{"id": "t-new", "en": "x", "he": "y"} extra',
            "invalid JSON",
            id="trailing",
        ),
        pytest.param(TRANSLATIONS, '{id: "t-new"}', "invalid JSON", id="unquoted-key"),
        pytest.param(TRANSLATIONS, '["t-new", "x", "y"]', "one JSON object", id="array"),
        pytest.param(TRANSLATIONS, '"t-new"', "one JSON object", id="string"),
        pytest.param(TRANSLATIONS, "42", "one JSON object", id="number"),
        pytest.param(TRANSLATIONS, "null", "one JSON object", id="null"),
        pytest.param(
            TRANSLATIONS,
            '{"id": "t-new", "en": "x", "en": "y", "he": "z"}',
            "'en'",
            id="duplicate-key",
        ),
        pytest.param(
            QUESTIONS,
            '{"id": "q-new", "modules": [], "type": "value", "status": "approved", '
            '"text": {"id": "t-new", "en": "x", "he": "y", "he": "z"}}',
            "'he'",
            id="duplicate-key-nested",
        ),
    ],
)
def test_malformed_line(seeddata: Path, file: str, text: str, named: str) -> None:
    line = append_lines(seeddata, file, text)
    assert_problem(only_problem(seeddata), shown(seeddata, file), line, "malformed", named)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_number(seeddata: Path, constant: str) -> None:
    line = append_lines(
        seeddata,
        NUMBER_ANSWERS,
        f'{{"id": "n-new", "answer": "What is a binary tree", "value": {constant}}}',
    )
    assert_problem(
        only_problem(seeddata), shown(seeddata, NUMBER_ANSWERS), line, "malformed", constant
    )


def test_number_too_large_for_a_float(seeddata: Path) -> None:
    """1e400 parses as an infinite float: not a number a column can hold."""
    line = append_lines(
        seeddata,
        NUMBER_ANSWERS,
        '{"id": "n-new", "answer": "What is a binary tree", "value": 1e400}',
    )
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, NUMBER_ANSWERS),
        line,
        "wrong-type",
        "value",
        "finite",
    )


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_line_in_the_middle(seeddata: Path, blank: str) -> None:
    lines = lines_of(seeddata, TRANSLATIONS)
    write_lines(seeddata, TRANSLATIONS, [*lines[:2], blank, *lines[2:]])
    assert_problem(
        only_problem(seeddata), shown(seeddata, TRANSLATIONS), 3, "malformed", "blank line"
    )


def test_blank_line_at_the_end(seeddata: Path) -> None:
    count = len(lines_of(seeddata, TRANSLATIONS))
    with (seeddata / TRANSLATIONS).open("a", encoding="utf-8") as file:
        file.write("\n")
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, TRANSLATIONS),
        count + 1,
        "malformed",
        "blank line",
    )


def test_last_line_without_newline_is_fine(seeddata: Path) -> None:
    path = seeddata / TRANSLATIONS
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert len(load_seeddata(seeddata, SPEC, metadata).rows["Translation"]) == 650


@pytest.mark.parametrize("file", [UNIT_ANSWERS, TRANSLATIONS])
def test_byte_order_mark(seeddata: Path, file: str) -> None:
    path = seeddata / file
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert_problem(only_problem(seeddata), shown(seeddata, file), 1, "malformed", "byte order mark")


def test_invalid_utf8(seeddata: Path) -> None:
    path = seeddata / TRANSLATIONS
    lines = path.read_bytes().split(b"\n")
    before = sum(len(line) + 1 for line in lines[:4])  # bytes of lines 1-4 and their newlines
    cut = lines[4].index(b'"en": "') + len(b'"en": "')
    lines[4] = lines[4][:cut] + b"\xff\xfe" + lines[4][cut:]
    path.write_bytes(b"\n".join(lines))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, TRANSLATIONS),
        5,
        "malformed",
        "UTF-8",
        f"byte {before + cut}",
    )


def test_a_file_that_is_not_utf8_is_reported_by_that_alone(seeddata: Path) -> None:
    """A file's encoding is checked before its first row is taken: a mistake on a line
    before the undecodable one, and the rows of those lines, report nothing more."""
    path = seeddata / TRANSLATIONS
    lines = path.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b'{"id"', b'{"colour": 1, "id"', 1)
    lines[-2] = lines[-2] + b"\xff"
    path.write_bytes(b"\n".join(lines))
    problem = only_problem(seeddata)
    assert_problem(problem, shown(seeddata, TRANSLATIONS), len(lines) - 1, "malformed", "UTF-8")


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_a_character_across_the_blocks_the_encoding_is_checked_by_is_read_whole(
    tmp_path: Path, shift: int
) -> None:
    """The encoding check decodes a file by blocks: a character whose bytes fall in two
    blocks is one character, not an error. 1.2 MB of three-byte characters, shifted by 0,
    1 and 2 bytes: wherever a block ends, it ends inside a character in two of the three."""
    text = "x" * shift + "\u20ac" * 400_000
    path = tmp_path / "long.jsonl"
    path.write_bytes(f"{text}\nend\n".encode())

    assert list(read_lines(path, "long.jsonl")) == [(1, text), (2, "end")]


def test_empty_file(seeddata: Path) -> None:
    (seeddata / UNIT_ANSWERS).write_bytes(b"")
    assert_problem(only_problem(seeddata), shown(seeddata, UNIT_ANSWERS), 1, "malformed", "empty")


# --- conflicting-definition -------------------------------------------------------------


@pytest.fixture(scope="module")
def previous() -> Dataset:
    """The state the fixture's data revisions produce: its seed data as it stands."""
    return load_seeddata(REAL_SEEDDATA, SPEC, metadata).rows


def set_text(field: str, value: str) -> Callable[[dict[str, Any]], None]:
    """An edit of the inline text of a choice."""

    def edit(row: dict[str, Any]) -> None:
        row["text"][field] = value

    return edit


def places_of(folder: Path, text_id: str) -> list[tuple[str, int]]:
    """Every place (file, line) that writes the text ``text_id`` in full."""

    def found(value: Any) -> int:
        if isinstance(value, dict):
            here = int(value.get("id") == text_id and {"en", "he"} <= value.keys())
            return here + sum(found(item) for item in value.values())
        if isinstance(value, list):
            return sum(found(item) for item in value)
        return 0

    return [
        (str(path.relative_to(folder)), number)
        for path in sorted(folder.rglob("*.jsonl"))
        for number, line in enumerate(lines_of(folder, str(path.relative_to(folder))), start=1)
        for _ in range(found(json.loads(line)))
    ]


def test_same_text_defined_differently_in_two_rows(seeddata: Path) -> None:
    """Without an earlier state nothing tells which copy is right: one line, both values."""
    yes = row_at(seeddata, CHOICES, 53)["text"]
    assert row_at(seeddata, CHOICES, 55)["text"] == yes
    edit_row(seeddata, CHOICES, 55, set_text("en", "Yes!"))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, CHOICES),
        55,
        "conflicting-definition",
        repr(yes["id"]),
        'here {"en": "Yes!"}',
        f'at {shown(seeddata, CHOICES)}:53 {{"en": "Yes"}}',
        "no earlier state",
    )


def test_text_edited_in_one_copy_is_the_edit(seeddata: Path, previous: Dataset) -> None:
    """One copy of a text many choices share differs from the data revisions: it is the
    edit, and the loaded data holds it for every choice."""
    yes = row_at(seeddata, CHOICES, 55)["text"]
    places = len(places_of(seeddata, yes["id"]))
    assert places > 2
    edit_row(seeddata, CHOICES, 55, set_text("en", "Yes!"))

    loaded = load_seeddata(seeddata, SPEC, metadata, previous=previous)

    assert loaded.rows["Translation"][(yes["id"],)] == {
        "id": yes["id"],
        "en_text": "Yes!",
        "he_text": yes["he"],
    }
    changed = {table for table in previous if loaded.rows[table] != previous[table]}
    assert changed == {"Translation"}
    (edit,) = loaded.text_edits
    assert (edit.table, edit.key, edit.origin) == (
        "Translation",
        (yes["id"],),
        (shown(seeddata, CHOICES), 55),
    )
    assert edit.changed == {"en": ("Yes", "Yes!")}
    assert (edit.places, edit.rewritten) == (places, places - 1)
    assert edit.explain() == (
        f"{shown(seeddata, CHOICES)}:55: edited text: Translation {yes['id']!r} "
        f'en "Yes" -> "Yes!": written in {places} places, {places - 1} still hold the old '
        "text; `seeds revision --autogenerate` writes the edit into them"
    )
    assert loaded.renames == []
    assert loaded.needs_rewrite


def test_text_edited_alike_in_two_copies_is_one_edit(seeddata: Path, previous: Dataset) -> None:
    yes = row_at(seeddata, CHOICES, 53)["text"]
    places = len(places_of(seeddata, yes["id"]))
    for line in (53, 55):
        edit_row(seeddata, CHOICES, line, set_text("he", "כן!"))
    (edit,) = load_seeddata(seeddata, SPEC, metadata, previous=previous).text_edits
    assert edit.origin == (shown(seeddata, CHOICES), 53)
    assert edit.changed == {"he": (yes["he"], "כן!")}
    assert (edit.places, edit.rewritten) == (places, places - 2)


def test_two_copies_edited_differently_is_one_conflict_naming_both(
    seeddata: Path, previous: Dataset
) -> None:
    yes = row_at(seeddata, CHOICES, 53)["text"]
    edit_row(seeddata, CHOICES, 53, set_text("en", "Yes!"))
    edit_row(seeddata, CHOICES, 55, set_text("en", "Yes?"))
    problem = only_problem(seeddata, previous)
    assert_problem(
        problem,
        shown(seeddata, CHOICES),
        55,
        "conflicting-definition",
        repr(yes["id"]),
        'here {"en": "Yes?"}',
        f'at {shown(seeddata, CHOICES)}:53 {{"en": "Yes!"}}',
        '{"en": "Yes"} (and ',  # the copies left as they were
        'the data revisions hold {"en": "Yes"}',
    )


def test_new_text_written_differently_in_two_places_is_a_conflict(
    seeddata: Path, previous: Dataset
) -> None:
    """A text the data revisions do not hold yet: no copy can be the edit."""
    choice = row_at(seeddata, CHOICES, 1)
    text = {"id": "tr-new", "en": "Perhaps", "he": "אולי"}
    first = append_lines(
        seeddata,
        CHOICES,
        dump({**choice, "id": "choice-new-1", "text": text}),
        dump({**choice, "id": "choice-new-2", "text": {**text, "en": "Maybe"}}),
    )
    assert_problem(
        only_problem(seeddata, previous),
        shown(seeddata, CHOICES),
        first + 1,
        "conflicting-definition",
        "'tr-new'",
        'here {"en": "Maybe"}',
        f'at {shown(seeddata, CHOICES)}:{first} {{"en": "Perhaps"}}',
        "no earlier state",
    )


def test_translation_row_edited_where_an_inline_copy_is_not(
    seeddata: Path, previous: Dataset
) -> None:
    """A text that no row uses written again in translations.jsonl, edited there only."""
    name = row_at(seeddata, COURSES, 1)["name"]
    line = append_lines(seeddata, TRANSLATIONS, dump({**name, "he": name["he"] + " א"}))
    (edit,) = load_seeddata(seeddata, SPEC, metadata, previous=previous).text_edits
    assert edit.origin == (shown(seeddata, TRANSLATIONS), line)
    assert edit.rewritten == len(places_of(seeddata, name["id"])) - 1


# --- a row renamed -----------------------------------------------------------------------


#: A module that 16 sub-modules, 8 questions and a prerequisite edge refer to by name.
COMBINATORICS = "Combinatorics"


def module_line(folder: Path, name: str) -> int:
    (line,) = [
        number
        for number, text in enumerate(lines_of(folder, MODULES), start=1)
        if json.loads(text)["name"]["en"] == name
    ]
    return line


def test_module_renamed_on_its_own_line_is_found_by_its_old_name(
    seeddata: Path, previous: Dataset
) -> None:
    line = module_line(seeddata, COMBINATORICS)
    text_id = row_at(seeddata, MODULES, line)["name"]["id"]
    edit_row(seeddata, MODULES, line, lambda row: row["name"].update(en="Combinatorics II"))
    # Without the earlier state, every reference by the old name names nothing.
    missing = problems_of(seeddata)
    assert {problem.rule for problem in missing} == {"missing-reference"}
    assert len(missing) == 25

    loaded = load_seeddata(seeddata, SPEC, metadata, previous=previous)

    changed = {table for table in previous if loaded.rows[table] != previous[table]}
    assert changed == {"Translation"}
    assert loaded.rows["Translation"][(text_id,)]["en_text"] == "Combinatorics II"
    (rename,) = loaded.renames
    assert (rename.table, rename.before, rename.after, rename.origin) == (
        "Module",
        COMBINATORICS,
        "Combinatorics II",
        (shown(seeddata, MODULES), line),
    )
    assert sorted(rename.references) == sorted((p.path, p.line) for p in missing)
    assert rename.explain() == (
        f'{shown(seeddata, MODULES)}:{line}: renamed: Module "Combinatorics" is now '
        '"Combinatorics II": 25 references in 25 lines use the old label; '
        "`seeds revision --autogenerate` rewrites them"
    )
    assert loaded.text_edits == []


def test_module_whose_name_text_is_shared_renamed_on_its_own_line(seeddata: Path) -> None:
    """A course that shares the module's name text (the same row, written on its line too);
    the module renamed on the module's line: the course line gets the edit, and the lines
    naming the module by its old name find it."""
    line = module_line(seeddata, COMBINATORICS)
    text = row_at(seeddata, MODULES, line)["name"]
    course = row_at(seeddata, COURSES, 1)
    append_lines(
        seeddata,
        COURSES,
        dump({"id": "course-new", "university": course["university"], "name": text}),
    )
    previous = load_seeddata(seeddata, SPEC, metadata).rows  # as a revision captured it
    edit_row(seeddata, MODULES, line, lambda row: row["name"].update(en="Combinatorics II"))

    loaded = load_seeddata(seeddata, SPEC, metadata, previous=previous)

    (edit,) = loaded.text_edits
    assert (edit.origin, edit.places, edit.rewritten) == ((shown(seeddata, MODULES), line), 2, 1)
    (rename,) = loaded.renames
    assert (rename.table, rename.before, rename.after) == (
        "Module",
        COMBINATORICS,
        "Combinatorics II",
    )
    assert len(rename.references) == 25
    assert loaded.rows["Translation"][(text["id"],)]["en_text"] == "Combinatorics II"


def test_course_names_shared_by_two_universities_renamed_in_one_copy(
    seeddata: Path, previous: Dataset
) -> None:
    """The text of two courses edited on one of their lines: both courses are renamed, and
    the lines naming either (a module's courses, a prerequisite edge) find it."""
    name = row_at(seeddata, COURSES, 1)["name"]
    assert len(places_of(seeddata, name["id"])) == 2
    edit_row(seeddata, COURSES, 1, lambda row: row["name"].update(en=name["en"] + " (new)"))
    loaded = load_seeddata(seeddata, SPEC, metadata, previous=previous)
    (edit,) = loaded.text_edits
    assert (edit.places, edit.rewritten) == (2, 1)
    renamed = {rename.table for rename in loaded.renames}
    assert "Course" in renamed
    assert all(rename.after.count(" (new)") >= 1 for rename in loaded.renames)
    assert sum(len(rename.references) for rename in loaded.renames) >= 1


def test_reference_to_a_deleted_module_says_it_was_deleted(
    seeddata: Path, previous: Dataset
) -> None:
    line = module_line(seeddata, "Basic Units")
    lines = lines_of(seeddata, MODULES)
    write_lines(seeddata, MODULES, lines[: line - 1] + lines[line:])
    problems = problems_of(seeddata, previous)
    assert problems
    for problem in problems:
        assert problem.rule == "missing-reference", str(problem)
        assert "Basic Units'" in problem.detail  # the module, or its block module:NAME
        assert problem.detail.endswith("(the data revisions have one: it was deleted)")


def test_previous_state_is_computed_only_when_needed(seeddata: Path, previous: Dataset) -> None:
    calls: list[int] = []

    def replayed() -> Dataset:
        calls.append(1)
        return previous

    load_seeddata(seeddata, SPEC, metadata, previous=replayed)
    assert calls == []
    edit_row(seeddata, CHOICES, 55, set_text("en", "Yes!"))
    load_seeddata(seeddata, SPEC, metadata, previous=replayed)
    assert calls == [1]


def test_translation_row_differing_from_an_inline_text(seeddata: Path) -> None:
    name = row_at(seeddata, COURSES, 1)["name"]
    line = append_lines(seeddata, TRANSLATIONS, dump({**name, "en": "Linear Algebra One"}))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, TRANSLATIONS),
        line,
        "conflicting-definition",
        repr(name["id"]),
        f"{shown(seeddata, COURSES)}:1",
    )


def test_same_text_defined_identically_twice_is_one_row(seeddata: Path) -> None:
    name = row_at(seeddata, COURSES, 1)["name"]
    append_lines(seeddata, TRANSLATIONS, dump(name))
    assert len(load_seeddata(seeddata, SPEC, metadata).rows["Translation"]) == 650


# --- one mistake, one line --------------------------------------------------------------


def truncate(folder: Path, file: str, line: int) -> None:
    text = lines_of(folder, file)[line - 1]
    replace_line(folder, file, line, text[: len(text) // 2])


def test_broken_line_hides_the_references_to_its_rows(seeddata: Path) -> None:
    """Courses, faculties and degrees name the university of line 2 by its label: with
    the line unreadable, they name nothing, but only the broken line is reported."""
    label = row_at(seeddata, UNIVERSITIES, 2)["name"]["en"]
    referring = [
        (file, number)
        for file in (COURSES, "catalog/degrees.jsonl", "institutions/faculties.jsonl")
        for number, text in enumerate(lines_of(seeddata, file), start=1)
        if json.loads(text)["university"] == label
    ]
    assert referring
    truncate(seeddata, UNIVERSITIES, 2)
    assert_problem(
        only_problem(seeddata), shown(seeddata, UNIVERSITIES), 2, "malformed", "invalid JSON"
    )


def test_a_broken_line_of_any_file_is_the_only_problem(seeddata: Path) -> None:
    """Each file in turn, its first line cut in half (the rows of first lines are the ones
    most often referred to: the first university, the first course, ...)."""
    for file in SPEC.files:
        original = (seeddata / file.path).read_bytes()
        truncate(seeddata, file.path, 1)
        problems = problems_of(seeddata)
        assert [(p.path, p.line, p.rule) for p in problems] == [
            (shown(seeddata, file.path), 1, "malformed")
        ], "\n".join(map(str, problems))
        (seeddata / file.path).write_bytes(original)


@pytest.mark.parametrize("content", [b"", b"\n"], ids=["zero-bytes", "one-newline"])
def test_emptied_file_is_the_only_problem(seeddata: Path, content: bytes) -> None:
    """Every course, degree and faculty names a university of the emptied file."""
    (seeddata / UNIVERSITIES).write_bytes(content)
    assert_problem(only_problem(seeddata), shown(seeddata, UNIVERSITIES), 1, "malformed")


def test_line_copied_with_its_ids_is_one_duplicate_id(seeddata: Path) -> None:
    """A university line copied and renamed, its ids kept: its name text now differs from
    the copied one, but that follows from the copied id."""
    first = row_at(seeddata, UNIVERSITIES, 1)
    first["name"]["en"] = "Another University"
    line = append_lines(seeddata, UNIVERSITIES, dump(first))
    assert_problem(
        only_problem(seeddata), shown(seeddata, UNIVERSITIES), line, "duplicate-id", first["id"]
    )


@pytest.mark.parametrize(
    ("file", "field"),
    [
        pytest.param(UNIVERSITIES, "name", id="university-without-its-name"),
        pytest.param("curriculum/prerequisites.jsonl", "from", id="edge-without-its-start"),
    ],
)
def test_row_without_a_field_of_its_label_is_the_only_problem(
    seeddata: Path, file: str, field: str
) -> None:
    """The row's label is made of the missing field: the lines naming the row (courses at
    the university, the metadata of the edge) are not listed."""
    edit_row(seeddata, file, 1, lambda row: row.pop(field))
    assert_problem(only_problem(seeddata), shown(seeddata, file), 1, "missing-column", field)


def test_broken_module_line_hides_every_reference_to_the_module(seeddata: Path) -> None:
    """Sub-modules, questions and prerequisite edges (``module:NAME``, the module's own
    block) refer to the module; none of them is listed."""
    line = module_line(seeddata, COMBINATORICS)
    replace_line(seeddata, MODULES, line, lines_of(seeddata, MODULES)[line - 1] + ",")
    assert_problem(only_problem(seeddata), shown(seeddata, MODULES), line, "malformed")


@pytest.mark.parametrize("with_previous", [False, True], ids=["alone", "with-previous"])
def test_reference_to_a_row_whose_own_reference_is_wrong_is_not_listed(
    seeddata: Path, previous: Dataset, with_previous: bool
) -> None:
    """A course at a university that does not exist: its label is not what the modules and
    edges that name the course wrote, because of that one mistake."""
    course = next(
        number
        for number, text in enumerate(lines_of(seeddata, COURSES), start=1)
        if f"course:{json.loads(text)['name']['en']} @ {json.loads(text)['university']}"
        in (seeddata / "curriculum/prerequisites.jsonl").read_text("utf-8")
    )
    edit_row(seeddata, COURSES, course, setting("university", "Hogwarts"))
    assert_problem(
        only_problem(seeddata, previous if with_previous else None),
        shown(seeddata, COURSES),
        course,
        "missing-reference",
        "'Hogwarts'",
    )


def test_copies_that_disagree_hide_references_by_either_name(seeddata: Path) -> None:
    """Two courses share a text; one copy renamed and no earlier state to settle it: the
    lines naming the other course by its name are not listed besides the conflict."""
    name = row_at(seeddata, COURSES, 1)["name"]
    assert len(places_of(seeddata, name["id"])) == 2
    edit_row(seeddata, COURSES, 1, lambda row: row["name"].update(en=name["en"] + " (new)"))
    assert only_problem(seeddata).rule == "conflicting-definition"


def test_a_broken_line_comes_before_a_reference_problem_of_a_file_read_earlier(
    seeddata: Path,
) -> None:
    broken = append_lines(seeddata, TRANSLATIONS, '{"id": "t-new", "en": ')
    edit_row(seeddata, COURSES, 1, setting("university", "Hogwarts"))
    assert [(p.path, p.line, p.rule) for p in problems_of(seeddata)] == [
        (shown(seeddata, TRANSLATIONS), broken, "malformed"),
        (shown(seeddata, COURSES), 1, "missing-reference"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="arrays"),
        pytest.param('{"a": ' * 100_000 + "1" + "}" * 100_000, id="objects"),
    ],
)
def test_json_nested_100000_deep_is_malformed(seeddata: Path, text: str) -> None:
    line = append_lines(seeddata, TRANSLATIONS, text)
    assert_problem(
        only_problem(seeddata), shown(seeddata, TRANSLATIONS), line, "malformed", "nested"
    )


# --- every problem, in order ------------------------------------------------------------


def test_problems_of_lines_come_first_then_references_each_in_reading_order(
    seeddata: Path,
) -> None:
    """questions.jsonl is read before choices.jsonl; a reference is resolved once every
    line is read, so its problem comes after the problems of reading lines."""
    question_line = append_lines(
        seeddata,
        QUESTIONS,
        new_question("q-new", {"id": "tr-new", "en": "Why?", "he": "למה?"}, kind="essay"),
    )
    edit_row(seeddata, CHOICES, 3, setting("answer", "What is the meaning of life"))
    edit_row(seeddata, CHOICES, 1, setting("correct", "yes"))
    with pytest.raises(DatasetError) as raised:
        load_seeddata(seeddata, SPEC, metadata)
    problems = raised.value.problems
    assert [(p.path, p.line, p.rule) for p in problems] == [
        (shown(seeddata, QUESTIONS), question_line, "bad-enum"),
        (shown(seeddata, CHOICES), 1, "wrong-type"),
        (shown(seeddata, CHOICES), 3, "missing-reference"),
    ]
    assert "'essay'" in problems[0].detail
    assert "'yes'" in problems[1].detail
    assert "'What is the meaning of life'" in problems[2].detail
    assert str(raised.value).splitlines() == [str(problem) for problem in problems]
    assert str(problems[1]) == f"{problems[1].path}:1: wrong-type: {problems[1].detail}"


def test_problems_of_many_files_all_reported(seeddata: Path) -> None:
    """A problem in one file does not stop the others from being read."""
    (seeddata / UNIT_ANSWERS).write_bytes(b"")
    broken_translation = append_lines(seeddata, TRANSLATIONS, "{")
    edit_row(seeddata, MODULES, 2, setting("parents", ["No Such Module"]))
    edit_row(seeddata, DISCIPLINES, 1, setting("faculty", "No Such Faculty"))
    problems = problems_of(seeddata)
    assert [(p.path, p.line, p.rule) for p in problems] == [
        (shown(seeddata, UNIT_ANSWERS), 1, "malformed"),
        (shown(seeddata, TRANSLATIONS), broken_translation, "malformed"),
        (shown(seeddata, DISCIPLINES), 1, "missing-reference"),
        (shown(seeddata, MODULES), 2, "missing-reference"),
    ]


# --- how paths are printed --------------------------------------------------------------


def test_absolute_folder_below_the_working_directory_is_printed_relative(
    seeddata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(seeddata.parent.parent)
    line = append_lines(seeddata, TRANSLATIONS, "[]")
    problem = only_problem(seeddata)
    assert (problem.path, problem.line) == ("project/seeddata/translations.jsonl", line)


def test_absolute_folder_elsewhere_is_printed_absolute(
    seeddata: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    line = append_lines(seeddata, TRANSLATIONS, "[]")
    problem = only_problem(seeddata)
    assert (problem.path, problem.line) == (f"{seeddata}/translations.jsonl", line)


def test_relative_folder_is_printed_as_given(
    seeddata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(seeddata.parent.parent)
    append_lines(seeddata, TRANSLATIONS, "[]")
    problem = only_problem(Path("project/seeddata"))
    assert problem.path == "project/seeddata/translations.jsonl"


# --- the real binary-trees case ---------------------------------------------------------


def _names(loaded: LoadedDataset) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Module id -> module name, and translation id -> inline text, from the loaded data."""
    texts = {
        key[0]: {"id": row["id"], "en": row["en_text"], "he": row["he_text"]}
        for key, row in loaded.rows["Translation"].items()
    }
    modules = {
        key[0]: texts[row["translationId"]]["en"] for key, row in loaded.rows["Module"].items()
    }
    return modules, texts


def _append_binary_trees(folder: Path) -> tuple[set[tuple[str, int, str, str]], int, int]:
    """Write the binary-trees rows into ``folder`` as seed data lines.

    Returns the missing references each line must report as (path, line, field, id), and
    the first appended line of questions.jsonl and of choices.jsonl.
    """
    modules, texts = _names(load_seeddata(folder, SPEC, metadata))
    rows = binary_trees_rows()
    module_of = {link["B"]: link["A"] for link in rows["_ModuleToQuestion"]}
    assert len(rows["Question"]) == 9
    assert len(rows["_ModuleToQuestion"]) == 9
    assert len(rows["SelectAnswer"]) == 16

    question_lines: list[str] = []
    for question in rows["Question"]:
        assert question["translationId"] not in texts
        question_lines.append(
            dump(
                {
                    "id": question["id"],
                    "modules": [modules[module_of[question["id"]]]],
                    "type": question["type"],
                    "status": question["validationStatus"],
                    "text": {"id": question["translationId"]},
                }
            )
        )
    choice_lines: list[str] = []
    question_ids = {question["id"] for question in rows["Question"]}
    for choice in rows["SelectAnswer"]:
        assert choice["answerId"] in question_ids  # a question id where an answer id belongs
        text = texts.get(choice["translationId"], {"id": choice["translationId"]})
        choice_lines.append(
            dump(
                {
                    "id": choice["id"],
                    "answer": {"id": choice["answerId"]},
                    "correct": choice["isCorrect"],
                    "text": text,
                }
            )
        )
    first_question = append_lines(folder, QUESTIONS, *question_lines)
    first_choice = append_lines(folder, CHOICES, *choice_lines)

    missing: set[tuple[str, int, str, str]] = set()
    for offset, question in enumerate(rows["Question"]):
        missing.add(
            (shown(folder, QUESTIONS), first_question + offset, "text", question["translationId"])
        )
    for offset, choice in enumerate(rows["SelectAnswer"]):
        line = first_choice + offset
        missing.add((shown(folder, CHOICES), line, "answer", choice["answerId"]))
        if choice["translationId"] not in texts:
            missing.add((shown(folder, CHOICES), line, "text", choice["translationId"]))
    return missing, first_question, first_choice


def _missing_reference(problem: Problem, expected: set[tuple[str, int, str, str]]) -> set[Any]:
    """The expected references ``problem`` reports (field and id both named in its detail)."""
    return {
        entry
        for entry in expected
        if (problem.path, problem.line) == entry[:2]
        and problem.detail.startswith(f"{entry[2]}:")
        and repr(entry[3]) in problem.detail
    }


def test_binary_trees_rows_every_missing_reference_reported(seeddata: Path) -> None:
    expected, first_question, first_choice = _append_binary_trees(seeddata)
    problems = problems_of(seeddata)
    missing = [problem for problem in problems if problem.rule == "missing-reference"]

    # 9 question texts, 16 answers that are question ids, and the choice texts that exist
    # nowhere in seeddata: one problem each, no more.
    by_field = [(path, field) for path, _, field, _ in expected]
    assert by_field.count((shown(seeddata, QUESTIONS), "text")) == 9
    assert by_field.count((shown(seeddata, CHOICES), "answer")) == 16
    assert len(missing) == len(expected)
    found: set[Any] = set()
    for problem in missing:
        reported = _missing_reference(problem, expected)
        assert len(reported) == 1, f"unexpected missing-reference: {problem}"
        found |= reported
    assert found == expected

    rows = binary_trees_rows()
    for offset, question in enumerate(rows["Question"]):
        assert any(
            p.line == first_question + offset and repr(question["translationId"]) in p.detail
            for p in missing
            if p.path == shown(seeddata, QUESTIONS)
        )
    for offset, choice in enumerate(rows["SelectAnswer"]):
        assert any(
            p.line == first_choice + offset and repr(choice["answerId"]) in p.detail
            for p in missing
            if p.path == shown(seeddata, CHOICES)
        )
    # The module links resolve: the module is named by its label.
    assert not [problem for problem in problems if problem.detail.startswith("modules:")]


def test_binary_trees_rows_report_nothing_but_missing_references(seeddata: Path) -> None:
    expected, _, _ = _append_binary_trees(seeddata)
    problems = problems_of(seeddata)
    assert [str(p) for p in problems if p.rule != "missing-reference"] == []
    assert len(problems) == len(expected)


def test_two_questions_with_missing_texts_are_not_duplicates(seeddata: Path) -> None:
    line = append_lines(
        seeddata,
        QUESTIONS,
        new_question("q-new-1", {"id": "no-such-text-1"}),
        new_question("q-new-2", {"id": "no-such-text-2"}),
    )
    problems = problems_of(seeddata)
    assert [(p.line, p.rule) for p in problems] == [
        (line, "missing-reference"),
        (line + 1, "missing-reference"),
    ]


# --- the command line -------------------------------------------------------------------


def write_config(tmp_path: Path, seeddata: Path) -> Path:
    """An ``alembic.ini`` whose ``[seeds]`` section names ``seeddata``."""
    config = tmp_path / "alembic.ini"
    config.write_text(
        "[seeds]\n"
        f"seeddata = {seeddata}\n"
        "spec = lumina.seeds:SPEC\n"
        "metadata = lumina.models:metadata\n"
        f"versions = {tmp_path / 'versions'}\n"
        "branch = seeds\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every way of opening a database connection fail, and record each attempt."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., NoReturn]:
        def refused(*args: Any, **kwargs: Any) -> NoReturn:
            attempts.append(what)
            raise AssertionError(f"validate tried to connect ({what})")

        return refused

    monkeypatch.setattr(sa.engine.Engine, "connect", refuse("Engine.connect"))
    monkeypatch.setattr(sa.engine.Engine, "raw_connection", refuse("Engine.raw_connection"))
    monkeypatch.setattr(sa.pool.Pool, "connect", refuse("Pool.connect"))
    monkeypatch.setattr(psycopg, "connect", refuse("psycopg.connect"))
    monkeypatch.setattr(psycopg.Connection, "connect", refuse("psycopg.Connection.connect"))
    monkeypatch.setattr(sqlite3, "connect", refuse("sqlite3.connect"))
    monkeypatch.setattr(sqlite3.dbapi2, "connect", refuse("sqlite3.dbapi2.connect"))
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_URL)
    return attempts


def validate(config: Path) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main, ["-c", str(config), "validate"], env={"DATABASE_URL": UNREACHABLE_URL}
    )


@pytest.fixture
def project(tmp_path: Path, seeddata: Path) -> Path:
    """``tmp_path/alembic.ini``, naming the private copy of seeddata."""
    return write_config(tmp_path, seeddata)


def test_cli_validate_broken_copy_exits_2(
    project: Path, seeddata: Path, tmp_path: Path, no_connections: list[str]
) -> None:
    edit_row(seeddata, MODULES, 2, setting("parents", ["No Such Module"]))
    edit_row(seeddata, CHOICES, 1, setting("correct", "true"))
    before = project_files(tmp_path)

    result = validate(project)

    assert result.exit_code == 2, result.output
    errors = result.stderr.splitlines()
    assert PROBLEM_LINE.match(errors[0]), errors[0]
    assert errors == [
        f"{seeddata}/{CHOICES}:1: wrong-type: correct: isCorrect must be a boolean, "
        "not string 'true'",
        f"{seeddata}/{MODULES}:2: missing-reference: parents: no Module named 'No Such Module'",
        "2 problem(s) in seed data; nothing written",
    ]
    assert all(PROBLEM_LINE.match(line) for line in errors[:-1])
    assert result.stdout == ""
    # Nothing written, nothing connected: the problems come from the files alone, although
    # DATABASE_URL names a server nobody listens on.
    assert project_files(tmp_path) == before
    assert not (tmp_path / "versions").exists()
    assert no_connections == []


def test_cli_validate_valid_copy_exits_0(
    project: Path, tmp_path: Path, no_connections: list[str]
) -> None:
    before = project_files(tmp_path)
    result = validate(project)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("seeddata is valid: ")
    assert result.stderr == ""
    assert project_files(tmp_path) == before
    assert no_connections == []


def test_cli_validate_binary_trees_exits_2(
    project: Path, seeddata: Path, no_connections: list[str]
) -> None:
    expected, _, _ = _append_binary_trees(seeddata)
    result = validate(project)
    assert result.exit_code == 2, result.output
    errors = result.stderr.splitlines()
    assert all(PROBLEM_LINE.match(line) for line in errors[:-1])
    assert errors[-1].endswith("problem(s) in seed data; nothing written")
    missing = [line for line in errors if ": missing-reference: " in line]
    assert len(missing) == len(expected)
    assert no_connections == []


def test_cli_validate_without_the_config_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-c", str(tmp_path / "nothing.ini"), "validate"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_cli_validate_json_nested_100000_deep_is_one_problem(
    project: Path, seeddata: Path, no_connections: list[str]
) -> None:
    line = append_lines(seeddata, TRANSLATIONS, "[" * 100_000 + "]" * 100_000)
    result = validate(project)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"{seeddata}/{TRANSLATIONS}:{line}: malformed: invalid JSON: nested too deeply",
        "1 problem(s) in seed data; nothing written",
    ]
    assert no_connections == []


# --- the command line, with the data revisions to compare with ---------------------------


@pytest.fixture
def lumina(tmp_path: Path) -> Path:
    """A copy of the frozen Lumina project: its seed data and its data revisions."""
    return copy_project(tmp_path / "lumina")


def test_cli_validate_explains_a_text_edited_in_one_copy(
    lumina: Path, no_connections: list[str]
) -> None:
    seeddata = lumina / "seeddata"
    yes = row_at(seeddata, CHOICES, 55)["text"]
    places = len(places_of(seeddata, yes["id"]))
    edit_row(seeddata, CHOICES, 55, set_text("en", "Yes!"))
    before = project_files(lumina)

    result = validate(lumina / "alembic.ini")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("seeddata is valid: ")
    assert lines[1:] == [
        f"{seeddata}/{CHOICES}:55: edited text: Translation {yes['id']!r} "
        f'en "Yes" -> "Yes!": written in {places} places, {places - 1} still hold the old '
        "text; `seeds revision --autogenerate` writes the edit into them"
    ]
    # The data revisions were replayed offline: nothing written, nothing connected to.
    assert project_files(lumina) == before
    assert no_connections == []


def test_cli_validate_explains_a_renamed_module(lumina: Path, no_connections: list[str]) -> None:
    seeddata = lumina / "seeddata"
    line = module_line(seeddata, COMBINATORICS)
    edit_row(seeddata, MODULES, line, lambda row: row["name"].update(en="Combinatorics II"))
    result = validate(lumina / "alembic.ini")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        f'{seeddata}/{MODULES}:{line}: renamed: Module "Combinatorics" is now '
        '"Combinatorics II": 25 references in 25 lines use the old label; '
        "`seeds revision --autogenerate` rewrites them"
    ]
    assert no_connections == []


def test_cli_validate_copies_edited_differently_exit_2_with_one_line(
    lumina: Path, no_connections: list[str]
) -> None:
    seeddata = lumina / "seeddata"
    edit_row(seeddata, CHOICES, 53, set_text("en", "Yes!"))
    edit_row(seeddata, CHOICES, 55, set_text("en", "Yes?"))
    result = validate(lumina / "alembic.ini")
    assert result.exit_code == 2, result.output
    (problem, summary) = result.stderr.splitlines()
    assert problem.startswith(f"{seeddata}/{CHOICES}:55: conflicting-definition: ")
    assert f'{seeddata}/{CHOICES}:53 {{"en": "Yes!"}}' in problem
    assert 'here {"en": "Yes?"}' in problem
    assert summary == "1 problem(s) in seed data; nothing written"
    assert no_connections == []


def test_cli_validate_without_data_revisions_judges_the_copies_alone(
    project: Path, seeddata: Path, no_connections: list[str]
) -> None:
    """A configuration without revisions to replay: an edited copy is a conflict."""
    edit_row(seeddata, CHOICES, 55, set_text("en", "Yes!"))
    result = validate(project)
    assert result.exit_code == 2, result.output
    assert "no earlier state" in result.stderr.splitlines()[0]
