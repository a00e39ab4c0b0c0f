"""Checks of the reference-data fixtures and of their loader (no database needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.reference import (
    COLUMNS,
    FILE_TABLES,
    JOIN_TABLES,
    PRIMARY_KEYS,
    REFERENCE_DIR,
    SKIPPED_FILES,
    Dataset,
    HistoryState,
    binary_trees_rows,
    copy_dataset,
    history_states,
    reference_dataset,
    row_counts,
)

JOIN_TABLE_NAMES = {table for table, _, _ in JOIN_TABLES.values()}
ENTITY_TABLE_NAMES = set(COLUMNS) - JOIN_TABLE_NAMES


def _file_counts() -> dict[str, Any]:
    with (REFERENCE_DIR / "row_counts.json").open(encoding="utf-8") as f:
        counts: dict[str, Any] = json.load(f)
        return counts


def _assert_rows_match_schema(dataset: Dataset, where: str) -> None:
    for table, rows in dataset.items():
        columns = set(COLUMNS[table])
        key_columns = PRIMARY_KEYS[table]
        for key, row in rows.items():
            assert set(row) == columns, f"{where} {table} {key}: {sorted(row)}"
            assert key == tuple(row[c] for c in key_columns), f"{where} {table} {key}"


def test_fixture_files_are_all_there() -> None:
    names = {p.name for p in REFERENCE_DIR.glob("*.json")}
    expected = {f"{stem}.json" for stem in FILE_TABLES} | {f"{stem}.json" for stem in SKIPPED_FILES}
    expected |= {"row_counts.json", "binary_trees_declared_not_loaded.json"}
    assert names == expected


def test_reference_row_counts_match_row_counts_json() -> None:
    file_counts = _file_counts()
    counts = row_counts(reference_dataset())
    expected = {
        FILE_TABLES[name.removesuffix(".json")]: n
        for name, n in file_counts.items()
        if isinstance(n, int) and name.removesuffix(".json") not in SKIPPED_FILES
    }
    assert counts == expected
    assert file_counts["learning_resources.json"] == 0
    assert counts["Translation"] == 650
    assert counts["Course"] == 105
    assert counts["Question"] == 299
    assert counts["_CourseToDegree"] == 87
    assert counts["Discipline"] == 8
    assert sum(counts.values()) - counts["Discipline"] == 2733


def test_reference_without_disciplines() -> None:
    full = reference_dataset()
    final = reference_dataset(with_disciplines=False)
    assert set(full) - set(final) == {"Discipline"}
    assert all(final[table] == full[table] for table in final)


def test_reference_rows_have_exactly_the_schema_columns() -> None:
    _assert_rows_match_schema(reference_dataset(), "reference")


def test_reference_keeps_quirky_values() -> None:
    dataset = reference_dataset()
    assert ("",) in dataset["BlockRelationship"]
    assert ("",) in dataset["RelationshipMetadata"]
    assert ("f6a7b8c9-ad1e-4f2a-3b4c-number4444444",) in dataset["NumberAnswer"]
    assert any("\u2200x \u2208 \u211d" in row["en_text"] for row in dataset["Translation"].values())
    unit = next(iter(dataset["UnitAnswer"].values()))
    assert (unit["value"], unit["unit"]) == (0.96, "meter")
    assert all(row["publishedAt"] is None for row in dataset["Course"].values())


def test_binary_trees_rows() -> None:
    rows = binary_trees_rows()
    expected = _file_counts()["binary_trees_declared_not_loaded.json"]
    assert {table: len(table_rows) for table, table_rows in rows.items()} == {
        "Question": expected["questions"],
        "_ModuleToQuestion": expected["module_questions"],
        "SelectAnswer": expected["select_answers"],
    }
    for table, table_rows in rows.items():
        for row in table_rows:
            assert set(row) == set(COLUMNS[table])
    question_ids = {row["id"] for row in rows["Question"]}
    assert {row["B"] for row in rows["_ModuleToQuestion"]} == question_ids
    assert not question_ids & {key[0] for key in reference_dataset()["Question"]}


@pytest.fixture(scope="module")
def states() -> list[HistoryState]:
    return history_states()


def test_history_has_81_states_in_order(states: list[HistoryState]) -> None:
    assert len(states) == 81
    assert [s.n for s in states] == list(range(81))
    assert all(s.name == f"{s.n:02d}-{s.commit}" for s in states)
    assert states[0].name == "00-f62666b"
    assert states[-1].name == "80-25a337a"
    assert states[0].edits_from_previous is None
    assert all(s.edits_from_previous is not None for s in states[1:])


def test_state_33_is_the_snapshot(states: list[HistoryState]) -> None:
    assert [s.n for s in states if s.method == "snapshot"] == [33]
    assert [s.n for s in states if s.joins_missing] == [33]
    assert states[33].method == "snapshot"
    assert not JOIN_TABLE_NAMES & set(states[33].dataset)
    assert "dropped_duplicate_rows" in states[33].notes
    assert states[34].edits_from_previous_rerun_state is not None
    assert states[34].edits_from_previous_rerun_state["n"] == 32


def test_history_tables_per_state(states: list[HistoryState]) -> None:
    for s in states:
        expected = set(ENTITY_TABLE_NAMES)
        if s.n > 35:
            expected.discard("Discipline")
        if not s.joins_missing:
            expected |= JOIN_TABLE_NAMES
        assert set(s.dataset) == expected, s.name


def test_history_row_counts_match_index(states: list[HistoryState]) -> None:
    for s in states:
        expected = {
            FILE_TABLES[stem]: n for stem, n in s.counts.items() if stem not in SKIPPED_FILES
        }
        assert row_counts(s.dataset) == expected, s.name


def test_no_state_has_a_discipline_id_column(states: list[HistoryState]) -> None:
    for s in states:
        for table, rows in s.dataset.items():
            for row in rows.values():
                assert "disciplineId" not in row, (s.name, table)
        _assert_rows_match_schema(s.dataset, s.name)


def test_last_state_equals_reference(states: list[HistoryState]) -> None:
    last = states[-1].dataset
    reference = {t: rows for t, rows in reference_dataset().items() if t != "Discipline"}
    assert "Discipline" not in last
    assert set(last) == set(reference)
    for table, rows in reference.items():
        assert last[table] == rows, table
        # Same insertion order as the reference files.
        assert list(last[table]) == list(rows), table


def test_disciplines_match_the_last_state_that_had_them(states: list[HistoryState]) -> None:
    assert states[35].dataset["Discipline"] == reference_dataset()["Discipline"]


def test_copy_dataset_is_independent() -> None:
    original = reference_dataset()
    copy = copy_dataset(original)
    assert copy == original
    key = next(iter(copy["Translation"]))
    copy["Translation"][key]["en_text"] = "changed"
    del copy["Course"]
    assert original["Translation"][key]["en_text"] != "changed"
    assert "Course" in original
