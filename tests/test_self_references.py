"""Rows that refer to rows of their own table: subdivisions within subdivisions.

The geography fixture's ``subdivision.parent`` refers to another subdivision by its label.
Such references validate, a cycle of them is one ``reference-cycle`` problem at the line
that closes it, and labels made of the parent's label are resolved parents first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from geography_fixture.models import metadata

from alembic_seeds import FileSpec, Ref, RowSpec, SeedSpec, Value
from alembic_seeds.cli import main
from alembic_seeds.dataset.load import load_seeddata
from alembic_seeds.dataset.write import render_seeddata
from alembic_seeds.errors import ConfigError, DatasetError
from tests.fixture_projects import GEOGRAPHY, copy_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "geography", GEOGRAPHY)


def edit_line(path: Path, number: int, **values: Any) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[number - 1])
    row.update(values)
    lines[number - 1] = json.dumps(row, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def validate(project: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-c", str(project / "alembic.ini"), "validate"])
    return result.exit_code, result.stdout, result.stderr


def test_seeds_validate_accepts_parents_referred_to_by_label(project: Path) -> None:
    code, stdout, stderr = validate(project)
    assert (code, stderr) == (0, "")
    assert stdout == "seeddata is valid: 32 rows in 6 tables\n"


def test_a_cycle_of_parents_is_one_problem_at_the_line_that_closes_it(project: Path) -> None:
    subdivisions = project / "seeddata" / "subdivision.jsonl"
    # Line 1 (FR-IDF) now lies within line 4 (FR-75-04), which lies within FR-75 (line 2),
    # which lies within FR-IDF: line 4, read last, closes the cycle.
    edit_line(subdivisions, 1, parent="FR-75-04")
    code, _stdout, stderr = validate(project)
    assert code == 2
    shown = f"{project / 'seeddata' / 'subdivision.jsonl'}"
    assert stderr.splitlines() == [
        f"{shown}:4: reference-cycle: subdivision.parent: subdivision "
        "'FR-75-04' -> 'FR-75' -> 'FR-IDF' -> 'FR-75-04'",
        "1 problem(s) in seed data; nothing written",
    ]


def test_a_row_that_is_its_own_parent_is_a_cycle(project: Path) -> None:
    edit_line(project / "seeddata" / "subdivision.jsonl", 5, parent="FR-BRE")
    with pytest.raises(DatasetError) as raised:
        load_seeddata(project / "seeddata", _geography_spec(), metadata)
    ((line, rule, detail),) = [(p.line, p.rule, p.detail) for p in raised.value.problems]
    assert (line, rule) == (5, "reference-cycle")
    assert detail == "subdivision.parent: subdivision 'FR-BRE' -> 'FR-BRE'"


def test_every_cycle_of_parents_is_reported_once(project: Path) -> None:
    subdivisions = project / "seeddata" / "subdivision.jsonl"
    edit_line(subdivisions, 1, parent="FR-75")  # FR-IDF <-> FR-75
    edit_line(subdivisions, 5, parent="FR-29")  # FR-BRE <-> FR-29
    with pytest.raises(DatasetError) as raised:
        load_seeddata(project / "seeddata", _geography_spec(), metadata)
    assert [(p.line, p.rule, p.detail) for p in raised.value.problems] == [
        (2, "reference-cycle", "subdivision.parent: subdivision 'FR-75' -> 'FR-IDF' -> 'FR-75'"),
        (6, "reference-cycle", "subdivision.parent: subdivision 'FR-29' -> 'FR-BRE' -> 'FR-29'"),
    ]


def test_a_missing_parent_is_a_missing_reference(project: Path) -> None:
    edit_line(project / "seeddata" / "subdivision.jsonl", 2, parent="FR-XX")
    with pytest.raises(DatasetError) as raised:
        load_seeddata(project / "seeddata", _geography_spec(), metadata)
    assert [(p.line, p.rule, p.detail) for p in raised.value.problems] == [
        (2, "missing-reference", "parent: no subdivision named 'FR-XX'")
    ]


def _geography_spec() -> SeedSpec:
    from geography_fixture.seeds import SPEC  # noqa: PLC0415

    return SPEC


# --- labels made of the parent's label ---------------------------------------------------


def path_spec(label: str = "{parent}/{code}", *, unique: bool = True) -> SeedSpec:
    """Subdivisions labelled by their path from the top (``/FR-IDF/FR-75``)."""
    return SeedSpec(
        files=(
            FileSpec(
                "country.jsonl",
                RowSpec(
                    "country",
                    {"id": Value("id"), "iso_code": Value("iso_code"), "name": Value("name")},
                    label="{iso_code}",
                ),
            ),
            FileSpec(
                "subdivision.jsonl",
                RowSpec(
                    "subdivision",
                    {
                        "id": Value("id"),
                        "code": Value("code"),
                        "name": Value("name"),
                        "country": Ref("country_id", "country"),
                        "parent": Ref("parent_id", "subdivision"),
                    },
                    label=label,
                    unique_label=unique,
                ),
            ),
        )
    )


def write_subdivisions(folder: Path, rows: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "country.jsonl").write_text(
        '{"id": 1, "iso_code": "FR", "name": "France"}\n', encoding="utf-8"
    )
    (folder / "subdivision.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )


def subdivision(id: int, code: str, parent: str | None = None, name: str = "x") -> dict[str, Any]:
    row: dict[str, Any] = {"id": id, "code": code, "name": name, "country": "FR"}
    if parent is not None:
        row["parent"] = parent
    return row


def test_labels_made_of_the_parents_label_are_resolved_parents_first(tmp_path: Path) -> None:
    # Children are written before their parents: the order of lines does not matter.
    rows = [
        subdivision(4, "FR-75-04", "/FR-IDF/FR-75"),
        subdivision(3, "FR-92", "/FR-IDF"),
        subdivision(2, "FR-75", "/FR-IDF"),
        subdivision(1, "FR-IDF"),
    ]
    write_subdivisions(tmp_path, rows)
    spec = path_spec()
    loaded = load_seeddata(tmp_path, spec, metadata)
    parents = {key[0]: row["parent_id"] for key, row in loaded.rows["subdivision"].items()}
    assert parents == {4: 2, 3: 1, 2: 1, 1: None}
    # Written back, every parent is named by its whole path again.
    written = render_seeddata(spec, loaded.rows)
    assert written["subdivision.jsonl"] == (tmp_path / "subdivision.jsonl").read_text("utf-8")


def test_a_path_label_naming_no_row_is_a_missing_reference(tmp_path: Path) -> None:
    write_subdivisions(
        tmp_path,
        [
            subdivision(1, "FR-IDF"),
            subdivision(2, "FR-75", "/FR-IDF"),
            subdivision(3, "X", "/FR-75"),
        ],
    )
    with pytest.raises(DatasetError) as raised:
        load_seeddata(tmp_path, path_spec(), metadata)
    assert [(p.line, p.rule, p.detail) for p in raised.value.problems] == [
        (3, "missing-reference", "parent: no subdivision named '/FR-75'")
    ]


def test_a_label_met_again_further_down_the_hierarchy_is_ambiguous(tmp_path: Path) -> None:
    """``{parent}{name}``: the top row "ab" and the row "b" within "a" share the label "ab";
    a reference to "ab" is ambiguous although only the top row was known when it was met."""
    rows = [
        subdivision(1, "A", name="a"),
        subdivision(2, "AB", name="ab"),
        subdivision(3, "B", "a", name="b"),
        subdivision(4, "C", "ab", name="c"),
    ]
    write_subdivisions(tmp_path, rows)
    with pytest.raises(DatasetError) as raised:
        load_seeddata(tmp_path, path_spec("{parent}{name}", unique=False), metadata)
    assert [(p.line, p.rule, p.detail) for p in raised.value.problems] == [
        (4, "ambiguous-reference", "parent: 2 rows of subdivision are named 'ab'; refer by id")
    ]


def test_labels_that_are_made_of_each_other_are_refused() -> None:
    spec = SeedSpec(
        files=(
            FileSpec(
                "country.jsonl",
                RowSpec(
                    "country",
                    {"id": Value("id"), "capital": Ref("name", "subdivision")},
                    label="{capital}",
                ),
            ),
            FileSpec(
                "subdivision.jsonl",
                RowSpec(
                    "subdivision",
                    {"id": Value("id"), "country": Ref("country_id", "country")},
                    label="{country}",
                ),
            ),
        )
    )
    with pytest.raises(ConfigError, match="labels are made of each other in a cycle"):
        load_seeddata(GEOGRAPHY / "seeddata", spec, metadata)


@pytest.mark.parametrize(
    ("option", "template", "message"),
    [
        ("label", "{nmae}", "label '{nmae}' names 'nmae', which is not a Value or Ref field"),
        ("display", "{name} {}", "must name a field"),
        ("display", "{name.upper}", "must name a field"),
        ("label", "{name", "template '{name'"),
    ],
)
def test_a_template_naming_no_field_is_refused(option: str, template: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        fields = {"id": Value("id"), "name": Value("name")}
        if option == "label":
            RowSpec("tag", fields, label=template)
        else:
            RowSpec("tag", fields, display=template)
