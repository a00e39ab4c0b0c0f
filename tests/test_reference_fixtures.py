"""Checks of the reference-data fixtures and of their loader (no database needed)."""

from __future__ import annotations

import json
from typing import Any

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


def test_reference_fixture_is_complete_and_keeps_its_quirks() -> None:
    """Every file is there, each table has the rows row_counts.json promises, every row
    has exactly the schema's columns, and the values that trip up tools are kept as they
    are (empty-string ids, ids that are not UUIDs, symbols)."""
    names = {p.name for p in REFERENCE_DIR.glob("*.json")}
    expected = {f"{stem}.json" for stem in FILE_TABLES} | {f"{stem}.json" for stem in SKIPPED_FILES}
    assert names == expected | {"row_counts.json", "binary_trees_declared_not_loaded.json"}
    file_counts = _file_counts()
    dataset = reference_dataset()
    assert row_counts(dataset) == {
        FILE_TABLES[name.removesuffix(".json")]: n
        for name, n in file_counts.items()
        if isinstance(n, int) and name.removesuffix(".json") not in SKIPPED_FILES
    }
    _assert_rows_match_schema(dataset, "reference")
    assert set(dataset) - set(reference_dataset(with_disciplines=False)) == {"Discipline"}
    assert ("",) in dataset["BlockRelationship"]
    assert ("f6a7b8c9-ad1e-4f2a-3b4c-number4444444",) in dataset["NumberAnswer"]
    assert any("\u2200x \u2208 \u211d" in row["en_text"] for row in dataset["Translation"].values())
    rows = binary_trees_rows()
    question_ids = {row["id"] for row in rows["Question"]}
    assert {row["B"] for row in rows["_ModuleToQuestion"]} == question_ids
    assert not question_ids & {key[0] for key in dataset["Question"]}


def test_history_states_match_their_index_and_end_at_the_reference() -> None:
    states: list[HistoryState] = history_states()
    assert [s.n for s in states] == list(range(81))
    assert [s.n for s in states if s.joins_missing] == [33]
    for s in states:
        expected = {
            FILE_TABLES[stem]: n for stem, n in s.counts.items() if stem not in SKIPPED_FILES
        }
        assert row_counts(s.dataset) == expected, s.name
        _assert_rows_match_schema(s.dataset, s.name)
    reference = {t: rows for t, rows in reference_dataset().items() if t != "Discipline"}
    assert states[-1].dataset == reference
    assert states[35].dataset["Discipline"] == reference_dataset()["Discipline"]
    # A copy is independent of the cached original.
    copy = copy_dataset(reference)
    key = next(iter(copy["Translation"]))
    copy["Translation"][key]["en_text"] = "changed"
    assert reference_dataset()["Translation"][key]["en_text"] != "changed"
