"""Real reference data of the Lumina knowledge base, loaded from the test fixtures.

The fixtures are copies made for the tests, so a clone of the project needs nothing else:

* ``fixtures/reference/*.json``: the final seed data (repository tupe12334/lumina-knowledge-base,
  commit ``d48fdc9``), one JSON list of rows per table, byte for byte as published. Fields
  starting with ``_`` are readable helpers, not columns. ``disciplines.json`` holds the 8
  disciplines of the last state that still had them (they are not in the final seed);
  ``binary_trees_declared_not_loaded.json`` holds rows the seed declares but a real run rejects;
  ``row_counts.json`` gives the row count of every file.
* ``fixtures/history.jsonl.xz``: the 81 successive data states of that seed, one JSON object per
  line, in order. Each line carries the state's entry of the history index (``n``, ``commit``,
  ``full_commit``, ``date``, ``author_date``, ``subject``, ``merged_commits``, ``method``,
  ``joins_missing``, ``counts``, ``notes``, ``edits_from_previous``,
  ``edits_from_previous_rerun_state``; only the keys the index has), its folder ``name``
  (``"05-72067c1"``) and ``tables``: JSON file stem -> list of rows in insertion order. Rows keep
  every real column with its stored value and the JSON field names of the data files (join
  tables as ``courseId``/``degreeId`` and so on, ``disciplineId`` in states 00-35); helper
  fields starting with ``_`` and ``degrees.courseIds`` were left out. State 33 has no join
  tables (``joins_missing``).

This module maps both onto the current database schema: table names and column names as in the
database, join tables with their ``A``/``B`` columns, ``LearningResource`` (always empty)
left out. Results are cached: treat them as read-only, or copy them with :func:`copy_dataset`.
"""

from __future__ import annotations

import functools
import json
import lzma
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).parent / "fixtures"
REFERENCE_DIR = FIXTURES_DIR / "reference"
HISTORY_FILE = FIXTURES_DIR / "history.jsonl.xz"

Key = tuple[Any, ...]
Row = dict[str, Any]
Dataset = dict[str, dict[Key, Row]]
"""Table name in the database -> primary key tuple -> row keyed by database column names."""

ENTITY_TABLES: dict[str, str] = {
    "translations": "Translation",
    "universities": "University",
    "faculties": "Faculty",
    "degrees": "Degree",
    "courses": "Course",
    "blocks": "Block",
    "block_relationships": "BlockRelationship",
    "relationship_metadata": "RelationshipMetadata",
    "modules": "Module",
    "questions": "Question",
    "question_parts": "QuestionPart",
    "answers": "Answer",
    "select_answers": "SelectAnswer",
    "number_answers": "NumberAnswer",
    "unit_answers": "UnitAnswer",
    "disciplines": "Discipline",
}
"""JSON file stem -> entity table in the database."""

JOIN_TABLES: dict[str, tuple[str, str, str]] = {
    "degree_courses": ("_CourseToDegree", "courseId", "degreeId"),
    "course_modules": ("_CourseModules", "courseId", "moduleId"),
    "module_hierarchy": ("_ModuleHierarchy", "childModuleId", "parentModuleId"),
    "module_questions": ("_ModuleToQuestion", "moduleId", "questionId"),
}
"""JSON file stem -> (join table in the database, JSON field stored as A, field stored as B)."""

SKIPPED_FILES = frozenset({"learning_resources"})
"""JSON file stems with no table entry (LearningResource is never seeded)."""

FILE_TABLES: dict[str, str] = {
    **ENTITY_TABLES,
    **{stem: table for stem, (table, _, _) in JOIN_TABLES.items()},
}
"""JSON file stem -> database table, for every file that becomes a table."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "Translation": ("id", "en_text", "he_text"),
    "University": ("id", "translationId"),
    "Faculty": ("id", "descriptionId", "translationId", "universityId"),
    "Degree": ("id", "translationId", "universityId"),
    "Course": ("id", "translationId", "universityId", "publishedAt", "blockId"),
    "Block": ("id",),
    "BlockRelationship": ("id", "prerequisiteId", "postrequisiteId"),
    "RelationshipMetadata": ("id", "key", "value", "blockRelationshipId"),
    "Module": ("id", "translationId", "blockId"),
    "Question": ("id", "validationStatus", "translationId", "type"),
    "QuestionPart": ("id", "questionId", "partQuestionId", "order"),
    "Answer": ("id", "questionId"),
    "SelectAnswer": ("id", "isCorrect", "translationId", "answerId"),
    "NumberAnswer": ("id", "value", "answerId"),
    "UnitAnswer": ("id", "value", "unit", "answerId"),
    "Discipline": ("id", "translationId", "facultyId"),
    **{table: ("A", "B") for table, _, _ in JOIN_TABLES.values()},
}
"""Database table -> its columns in the current schema (the set every row's keys must equal)."""

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    table: ("A", "B") if table.startswith("_") else ("id",) for table in COLUMNS
}

NOT_COLUMNS: dict[str, frozenset[str]] = {
    "degrees": frozenset({"courseIds"}),
}
"""Fields without a leading underscore that are not columns, per JSON file stem."""

REMOVED_COLUMNS: dict[str, frozenset[str]] = {
    "courses": frozenset({"disciplineId"}),
    "degrees": frozenset({"disciplineId"}),
}
"""Columns of older states (00-35) that the current schema no longer has, per JSON file stem."""


@dataclass(frozen=True)
class HistoryState:
    """One data state of the seed's history, projected onto the current schema."""

    n: int
    name: str
    """Folder name of the state, ``f"{n:02d}-{commit}"``."""
    commit: str
    date: str
    subject: str
    method: str
    """``"rerun"`` (the commit's seed was run) or ``"snapshot"`` (state 33 only)."""
    joins_missing: bool
    """True when the state has no join-table data (state 33): its dataset has no join tables."""
    dataset: Dataset = field(repr=False)
    counts: dict[str, int] = field(repr=False)
    """Rows per JSON file stem, as in the history index (before projection)."""
    notes: dict[str, Any] = field(repr=False)
    edits_from_previous: dict[str, Any] | None = field(repr=False)
    """Edit counts per JSON file stem against the previous state, as in the history index.

    Counted on the original columns: the 77 course and 6 degree updates of state 36 are the
    dropped ``disciplineId`` and vanish in the projected datasets. None for state 0.
    """
    edits_from_previous_rerun_state: dict[str, Any] | None = field(repr=False)
    """State 34 only: ``{"n": 32, "edits": {...}}``, its edits against state 32 (skipping 33)."""


def _columns(stem: str, row: Mapping[str, Any], removed: frozenset[str]) -> Row:
    drop = NOT_COLUMNS.get(stem, frozenset()) | removed
    return {k: v for k, v in row.items() if not k.startswith("_") and k not in drop}


def _table(
    stem: str, rows: Iterable[Mapping[str, Any]], project: bool
) -> tuple[str, dict[Key, Row]]:
    """Turn the rows of one JSON file into (database table, primary key -> row)."""
    out: dict[Key, Row] = {}
    if stem in JOIN_TABLES:
        table, a_field, b_field = JOIN_TABLES[stem]
        for row in rows:
            out_row: Row = {"A": row[a_field], "B": row[b_field]}
            _put(out, table, (out_row["A"], out_row["B"]), out_row)
        return table, out
    table = ENTITY_TABLES[stem]
    removed = REMOVED_COLUMNS.get(stem, frozenset()) if project else frozenset()
    for row in rows:
        out_row = _columns(stem, row, removed)
        _put(out, table, (out_row["id"],), out_row)
    return table, out


def _put(out: dict[Key, Row], table: str, key: Key, row: Row) -> None:
    if key in out:
        raise ValueError(f"duplicate primary key {key!r} in {table}")
    out[key] = row


def _dataset(tables: Mapping[str, list[Mapping[str, Any]]]) -> Dataset:
    dataset: Dataset = {}
    for stem, rows in tables.items():
        if stem in SKIPPED_FILES:
            continue
        table, keyed = _table(stem, rows, project=True)
        dataset[table] = keyed
    return dataset


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


@functools.cache
def _reference(with_disciplines: bool) -> Dataset:
    stems = [*ENTITY_TABLES, *JOIN_TABLES]
    if not with_disciplines:
        stems.remove("disciplines")
    tables: dict[str, list[Mapping[str, Any]]] = {
        stem: _read_json(REFERENCE_DIR / f"{stem}.json") for stem in stems
    }
    return _dataset(tables)


def reference_dataset(*, with_disciplines: bool = True) -> Dataset:
    """The final reference data (``fixtures/reference/``) keyed by database table.

    ``Discipline`` holds the 8 disciplines of the last state that had them; they are not part of
    the final seed (nor of the last history state): pass ``with_disciplines=False`` to leave them
    out. The result is cached; do not mutate it (see :func:`copy_dataset`).
    """
    return _reference(with_disciplines)


@functools.cache
def history_states() -> list[HistoryState]:
    """The 81 states of the seed's history, in order, projected onto the current schema.

    ``disciplineId`` is dropped from courses and degrees (states 00-35); ``Discipline`` is a
    table while the state has disciplines (00-35). State 33 has no join tables. Cached; do not
    mutate the result.
    """
    states: list[HistoryState] = []
    with lzma.open(HISTORY_FILE, "rt", encoding="utf-8") as f:
        for line in f:
            raw: dict[str, Any] = json.loads(line)
            states.append(
                HistoryState(
                    n=raw["n"],
                    name=raw["name"],
                    commit=raw["commit"],
                    date=raw["date"],
                    subject=raw["subject"],
                    method=raw["method"],
                    joins_missing=raw["joins_missing"],
                    dataset=_dataset(raw["tables"]),
                    counts=raw["counts"],
                    notes=raw.get("notes", {}),
                    edits_from_previous=raw.get("edits_from_previous"),
                    edits_from_previous_rerun_state=raw.get("edits_from_previous_rerun_state"),
                )
            )
    return states


@functools.cache
def _binary_trees() -> dict[str, list[Row]]:
    raw: dict[str, Any] = _read_json(REFERENCE_DIR / "binary_trees_declared_not_loaded.json")
    out: dict[str, list[Row]] = {}
    for stem in ("questions", "module_questions", "select_answers"):
        _, keyed = _table(stem, raw[stem], project=False)
        out[FILE_TABLES[stem]] = list(keyed.values())
    return out


def binary_trees_rows() -> dict[str, list[Row]]:
    """Rows the binary-trees seed step declares but a real run rejects, per database table.

    Tables ``Question`` (9), ``_ModuleToQuestion`` (9, as A/B) and ``SelectAnswer`` (16), with
    helper fields dropped. Their questions' translations do not exist and the choices point at
    question ids, so inserting them breaks foreign keys. Returns fresh lists of fresh rows.
    """
    return {table: [dict(row) for row in rows] for table, rows in _binary_trees().items()}


def copy_dataset(dataset: Dataset) -> Dataset:
    """A copy of ``dataset`` whose tables and rows can be changed without touching the cache."""
    return {table: {key: dict(row) for key, row in rows.items()} for table, rows in dataset.items()}


def row_counts(dataset: Dataset) -> dict[str, int]:
    """Rows per database table."""
    return {table: len(rows) for table, rows in dataset.items()}
