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

from alembic_seeds.cli import main
from alembic_seeds.dataset.load import LoadedDataset, load_seeddata
from alembic_seeds.errors import DatasetError, Problem
from tests.fixture_projects import LUMINA
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


def problems_of(folder: Path) -> list[Problem]:
    """The problems ``load_seeddata`` raises for ``folder`` (it must raise)."""
    with pytest.raises(DatasetError) as raised:
        load_seeddata(folder, SPEC, metadata)
    problems = raised.value.problems
    assert problems, "DatasetError without problems"
    return problems


def only_problem(folder: Path) -> Problem:
    problems = problems_of(folder)
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
    """A second "Basic Units": its name is taken, and every reference to it is ambiguous."""
    line = append_lines(seeddata, MODULES, new_module("module-basic-2", "Basic Units", "tr-bu-2"))
    problems = problems_of(seeddata)
    duplicate = [problem for problem in problems if problem.rule == "duplicate-key"]
    assert len(duplicate) == 1
    assert_problem(
        duplicate[0],
        shown(seeddata, MODULES),
        line,
        "duplicate-key",
        "'Basic Units'",
        f"{shown(seeddata, MODULES)}:2",
    )
    ambiguous = {(p.path, p.line) for p in problems if p.rule == "ambiguous-reference"}
    assert ambiguous == {
        (shown(seeddata, "curriculum/prerequisites.jsonl"), 1),  # from: module:Basic Units
        (shown(seeddata, QUESTIONS), 298),  # modules: ["Basic Units"]
    }


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


def test_empty_file(seeddata: Path) -> None:
    (seeddata / UNIT_ANSWERS).write_bytes(b"")
    assert_problem(only_problem(seeddata), shown(seeddata, UNIT_ANSWERS), 1, "malformed", "empty")


# --- conflicting-definition -------------------------------------------------------------


def test_same_text_defined_differently_in_two_rows(seeddata: Path) -> None:
    yes = row_at(seeddata, CHOICES, 53)["text"]
    assert row_at(seeddata, CHOICES, 55)["text"] == yes
    edit_row(seeddata, CHOICES, 55, lambda row: row["text"].__setitem__("en", "Yes!"))
    assert_problem(
        only_problem(seeddata),
        shown(seeddata, CHOICES),
        55,
        "conflicting-definition",
        repr(yes["id"]),
        f"{shown(seeddata, CHOICES)}:53",
    )


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


# --- every problem, in order ------------------------------------------------------------


def test_all_problems_are_listed_sorted_by_path_and_line(seeddata: Path) -> None:
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
        (shown(seeddata, CHOICES), 1, "wrong-type"),
        (shown(seeddata, CHOICES), 3, "missing-reference"),
        (shown(seeddata, QUESTIONS), question_line, "bad-enum"),
    ]
    assert "'yes'" in problems[0].detail
    assert "'What is the meaning of life'" in problems[1].detail
    assert "'essay'" in problems[2].detail
    assert str(raised.value).splitlines() == [str(problem) for problem in problems]
    assert str(problems[0]) == f"{problems[0].path}:1: wrong-type: {problems[0].detail}"


def test_problems_of_many_files_all_reported(seeddata: Path) -> None:
    """A problem in one file does not stop the others from being read."""
    (seeddata / UNIT_ANSWERS).write_bytes(b"")
    broken_translation = append_lines(seeddata, TRANSLATIONS, "{")
    edit_row(seeddata, MODULES, 2, setting("parents", ["No Such Module"]))
    edit_row(seeddata, DISCIPLINES, 1, setting("faculty", "No Such Faculty"))
    problems = problems_of(seeddata)
    assert [(p.path, p.line, p.rule) for p in problems] == sorted(
        [
            (shown(seeddata, UNIT_ANSWERS), 1, "malformed"),
            (shown(seeddata, TRANSLATIONS), broken_translation, "malformed"),
            (shown(seeddata, MODULES), 2, "missing-reference"),
            (shown(seeddata, DISCIPLINES), 1, "missing-reference"),
        ]
    )


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


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


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
    before = snapshot(tmp_path)

    result = validate(project)

    assert result.exit_code == 2, result.output
    errors = result.stderr.splitlines()
    assert PROBLEM_LINE.match(errors[0]), errors[0]
    assert errors == [
        f"{seeddata}/{MODULES}:2: missing-reference: parents: no Module named 'No Such Module'",
        f"{seeddata}/{CHOICES}:1: wrong-type: correct: isCorrect must be a boolean, "
        "not string 'true'",
        "2 problem(s) in seed data; nothing written",
    ]
    assert all(PROBLEM_LINE.match(line) for line in errors[:-1])
    assert result.stdout == ""
    # Nothing written, nothing connected: the problems come from the files alone, although
    # DATABASE_URL names a server nobody listens on.
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "versions").exists()
    assert no_connections == []


def test_cli_validate_valid_copy_exits_0(
    project: Path, tmp_path: Path, no_connections: list[str]
) -> None:
    before = snapshot(tmp_path)
    result = validate(project)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("seeddata is valid: ")
    assert result.stderr == ""
    assert snapshot(tmp_path) == before
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
