"""How reviews and revision files name rows: by the display name the spec gives them (by
default their label), a join table row by the rows it joins, else by its key.

Run on the geography fixture, whose spec is derived from its tables (labels: a country's ISO
code, a subdivision's code, a tag's name; cities and airports have none).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from geography_fixture.models import metadata

from alembic_seeds import FileSpec, Ref, RowSpec, SeedSpec, Value, derive_spec
from alembic_seeds.commands import EXIT_OK, load_project, revision, show
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.migration.config import SeedsProject
from tests.fixture_projects import GEOGRAPHY, copy_project


@pytest.fixture
def project(tmp_path: Path) -> SeedsProject:
    root = copy_project(tmp_path / "geography", GEOGRAPHY, data_revisions=False)
    return load_project(root / "alembic.ini")


def with_display(project: SeedsProject, table: str, display: str) -> SeedsProject:
    files = tuple(
        FileSpec(file.path, dataclasses.replace(file.rows, display=display))
        if file.rows.table == table
        else file
        for file in project.spec.files
    )
    return dataclasses.replace(project, spec=SeedSpec(files=files))


def test_show_names_rows_by_the_labels_of_the_derived_spec(project: SeedsProject) -> None:
    assert revision(project, "the geography").exit_code == EXIT_OK
    outcome = show(project, "seeds@head")
    assert outcome.exit_code == EXIT_OK
    lines = outcome.lines
    at = lines.index("  + FR-75  [id 11]")
    assert lines[at + 1 : at + 6] == [
        '      code: "FR-75"',
        "      country_id: 1 (FR)",
        '      name: "Paris"',
        "      parent_id: 10 (FR-IDF)",
        "  + FR-75-04  [id 13]",
    ]
    # A join table row by the rows it joins; rows without a label by their key.
    assert "  + FR-IDF <-> capital  [subdivision_id 10, tag_id 2]" in lines
    assert "  + 100  [id 100]" in lines
    assert "      subdivision_id: 11 (FR-75)" in lines
    assert "  + 'CDG'  [iata \"CDG\"]" in lines


def test_a_display_template_names_rows_in_reviews_and_revision_files(
    project: SeedsProject,
) -> None:
    named = with_display(project, "subdivision", "{name} ({code}, {country})")
    generated = revision(named, "the geography")
    assert generated.exit_code == EXIT_OK
    (path,) = (project.versions).glob("*.py")
    assert "            # Paris (FR-75, FR)\n" in path.read_text(encoding="utf-8")
    lines = show(named, "seeds@head").lines
    assert "  + Paris (FR-75, FR)  [id 11]" in lines
    # References show the display name too; the label stays what references are written as.
    assert "      parent_id: 10 (Île-de-France (FR-IDF, FR))" in lines
    assert "  + Finistère (FR-29, FR) <-> coastal  [subdivision_id 15, tag_id 1]" in lines


def test_a_row_is_named_from_the_first_state_that_holds_it() -> None:
    spec = SeedSpec(
        files=(
            FileSpec(
                "country.jsonl",
                RowSpec(
                    "country",
                    {"id": Value("id"), "iso": Value("iso_code"), "name": Value("name")},
                    label="{iso}",
                    display="{name}",
                ),
            ),
            FileSpec(
                "subdivision.jsonl",
                RowSpec(
                    "subdivision",
                    {
                        "id": Value("id"),
                        "code": Value("code"),
                        "country": Ref("country_id", "country"),
                    },
                    label="{country}-{code}",
                ),
            ),
        )
    )
    keys = {"country": ("id",), "subdivision": ("id",)}
    after = {"country": {(1,): {"id": 1, "iso_code": "FR", "name": "République française"}}}
    before = {
        "country": {
            (1,): {"id": 1, "iso_code": "FR", "name": "France"},
            (2,): {"id": 2, "iso_code": "DE", "name": "Deutschland"},
        },
        "subdivision": {(5,): {"id": 5, "code": "BY", "country_id": 2}},
    }
    namer = RowNamer(spec, metadata, keys, after, before)
    assert namer.label("country", {"id": 1}) == "République française"
    assert namer.label("country", {"id": 2}) == "Deutschland"  # deleted: from before
    assert namer.natural_label("country", (1,)) == "FR"
    # A label is made of the labels (not display names) of the rows it refers to.
    assert namer.label("subdivision", {"id": 5}) == "DE-BY"
    assert namer.value("subdivision", "country_id", 2) == "2 (Deutschland)"
    assert namer.label("subdivision", {"id": 6}) == "6"


def test_the_derived_spec_shows_rows_by_label_by_default() -> None:
    spec = derive_spec(metadata)
    for file in spec.files:
        assert file.rows.display is None
