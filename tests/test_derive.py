"""The spec derived from the metadata (``derive_spec``): which files and fields it makes.

The geography fixture (``tests/projects/geography``) is seeded under its derived spec;
the rules for shapes it does not have are checked on small metadata made here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from geography_fixture.models import metadata as geography

from alembic_seeds import derive_spec
from alembic_seeds.dataset.derive import NOT_SEEDED
from alembic_seeds.dataset.load import load_seeddata
from alembic_seeds.dataset.spec import Links, Ref, RowSpec, SeedSpec, Value
from alembic_seeds.dataset.write import render_seeddata
from alembic_seeds.errors import ConfigError
from alembic_seeds.migration.log import LOG_TABLE
from tests.fixture_projects import GEOGRAPHY


def rows_of(spec: SeedSpec, table: str) -> RowSpec:
    rows = spec.row_spec(table)
    assert rows is not None, f"no row spec for {table}"
    return rows


def test_geography_spec_has_a_file_per_table_and_lists_for_its_association_table() -> None:
    spec = derive_spec(geography)
    assert [(file.path, file.rows.table) for file in spec.files] == [
        ("country.jsonl", "country"),
        ("subdivision.jsonl", "subdivision"),
        ("tag.jsonl", "tag"),
        ("city.jsonl", "city"),
        ("airport.jsonl", "airport"),
    ]
    assert spec.embedded == ()
    country = rows_of(spec, "country")
    assert dict(country.fields) == {
        "id": Value("id"),
        "iso_code": Value("iso_code"),
        "name": Value("name"),
    }
    assert (country.label, country.unique_label, country.display) == ("{iso_code}", True, None)
    subdivision = rows_of(spec, "subdivision")
    assert dict(subdivision.fields) == {
        "id": Value("id"),
        "code": Value("code"),
        "name": Value("name"),
        "country": Ref("country_id", "country"),
        # A reference to the same table, written as the parent's label like any other.
        "parent": Ref("parent_id", "subdivision"),
        # The association table: a list of tags in each subdivision.
        "tag": Links("subdivision_tag", "subdivision_id", "tag_id", "tag"),
    }
    assert (subdivision.label, subdivision.unique_label) == ("{code}", True)
    assert rows_of(spec, "tag").label == "{name}"
    # Cities have no natural key (names repeat): no label, and references to them by id.
    city = rows_of(spec, "city")
    assert city.label is None
    assert dict(city.fields)["subdivision"] == Ref("subdivision_id", "subdivision")
    airport = rows_of(spec, "airport")
    assert dict(airport.fields) == {
        "iata": Value("iata"),
        "name": Value("name"),
        "city_id": Value("city_id"),
    }
    assert spec.tables() == [
        "country",
        "subdivision",
        "subdivision_tag",
        "tag",
        "city",
        "airport",
    ]


def test_geography_seeddata_loads_and_writes_back_byte_for_byte() -> None:
    folder = GEOGRAPHY / "seeddata"
    spec = derive_spec(geography)
    loaded = load_seeddata(folder, spec, geography)
    assert loaded.assigned_ids == []
    subdivisions = loaded.rows["subdivision"]
    # Barcelona (ES-B) comes before its parent (ES-CT) in the file.
    assert subdivisions[(31,)]["parent_id"] == 30
    assert subdivisions[(13,)]["parent_id"] == 11
    assert (30, 1) in loaded.rows["subdivision_tag"]
    written = render_seeddata(spec, loaded.rows)
    on_disk = {
        str(path.relative_to(folder)): path.read_text(encoding="utf-8")
        for path in folder.rglob("*.jsonl")
    }
    assert written == on_disk


def test_tables_names_the_seeded_tables_and_unknown_ones_are_refused() -> None:
    spec = derive_spec(geography, ["subdivision", "country"])
    assert [file.rows.table for file in spec.files] == ["subdivision", "country"]
    # Tags are not seeded: no list of them, and no file.
    assert "tag" not in rows_of(spec, "subdivision").fields
    only_cities = derive_spec(geography, ["city"])
    # The subdivision table is not seeded: the reference is the id, checked by the database.
    assert dict(rows_of(only_cities, "city").fields)["subdivision_id"] == Value("subdivision_id")
    with pytest.raises(ConfigError, match="tables province, town: not in the metadata"):
        derive_spec(geography, ["city", "province", "town"])


def test_alembic_and_log_tables_are_never_seeded_by_default() -> None:
    assert LOG_TABLE in NOT_SEEDED
    metadata = sa.MetaData()
    sa.Table("alembic_version", metadata, sa.Column("version_num", sa.String(32), primary_key=True))
    sa.Table(LOG_TABLE, metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("colour", metadata, sa.Column("id", sa.Integer, primary_key=True))
    assert [file.rows.table for file in derive_spec(metadata).files] == ["colour"]


def _table(metadata: sa.MetaData, name: str, *items: sa.Column[object] | sa.Constraint) -> None:
    sa.Table(name, metadata, *items)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Integer, primary_key=True)


@pytest.mark.parametrize(
    ("columns", "label"),
    [
        pytest.param(
            [sa.Column("code", sa.Text, nullable=False, unique=True)], "{code}", id="one-unique"
        ),
        pytest.param(
            [sa.Column("code", sa.Text, nullable=False), sa.Index("ix", "code", unique=True)],
            "{code}",
            id="unique-index",
        ),
        pytest.param(
            [
                sa.Column("code", sa.Text, nullable=False, unique=True),
                sa.Column("name", sa.Text, nullable=False, unique=True),
            ],
            None,
            id="two-natural-keys",
        ),
        pytest.param(
            [
                sa.Column("a", sa.Text, nullable=False),
                sa.Column("b", sa.Text, nullable=False),
                sa.UniqueConstraint("a", "b"),
            ],
            None,
            id="composite-unique",
        ),
        pytest.param(
            [sa.Column("code", sa.Text, nullable=True, unique=True)], None, id="nullable-unique"
        ),
        pytest.param(
            [sa.Column("number", sa.Integer, nullable=False, unique=True)], None, id="not-text"
        ),
        pytest.param([sa.Column("name", sa.Text, nullable=False)], None, id="no-unique"),
    ],
)
def test_a_table_has_a_label_when_it_has_one_natural_key(
    columns: list[sa.Column[object] | sa.Constraint], label: str | None
) -> None:
    metadata = sa.MetaData()
    _table(metadata, "thing", _id(), *columns)
    _table(
        metadata,
        "holder",
        _id(),
        sa.Column("thing_id", sa.Integer, sa.ForeignKey("thing.id"), nullable=False),
    )
    spec = derive_spec(metadata)
    assert rows_of(spec, "thing").label == label
    holder = dict(rows_of(spec, "holder").fields)
    if label is None:
        assert holder["thing_id"] == Value("thing_id")
    else:
        assert holder["thing"] == Ref("thing_id", "thing")


def test_a_reference_field_keeps_the_column_name_where_the_short_name_is_taken() -> None:
    metadata = sa.MetaData()
    _table(metadata, "unit", _id(), sa.Column("name", sa.Text, nullable=False, unique=True))
    _table(
        metadata,
        "measure",
        _id(),
        sa.Column("unit", sa.Text),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("unit.id")),
        sa.Column("baseUnitId", sa.Integer, sa.ForeignKey("unit.id")),
    )
    fields = dict(rows_of(derive_spec(metadata), "measure").fields)
    assert fields == {
        "id": Value("id"),
        "unit": Value("unit"),
        "unit_id": Ref("unit_id", "unit"),
        "baseUnit": Ref("baseUnitId", "unit"),
    }


def _association(metadata: sa.MetaData, name: str, first: str, second: str) -> None:
    left, right = (f"{first}_id", f"{second}_id") if first != second else ("child", "parent")
    _table(
        metadata,
        name,
        sa.Column(left, sa.ForeignKey(f"{first}.id"), primary_key=True),
        sa.Column(right, sa.ForeignKey(f"{second}.id"), primary_key=True),
    )


def test_the_first_key_column_owns_an_association_of_two_labelled_tables() -> None:
    metadata = sa.MetaData()
    for name in ("film", "genre"):
        _table(metadata, name, _id(), sa.Column("title", sa.Text, nullable=False, unique=True))
    _association(metadata, "film_genre", "film", "genre")
    spec = derive_spec(metadata)
    assert [file.rows.table for file in spec.files] == ["film", "genre"]
    assert dict(rows_of(spec, "film").fields)["genre"] == Links(
        "film_genre", "film_id", "genre_id", "genre"
    )
    assert "film" not in rows_of(spec, "genre").fields


def test_the_side_without_a_label_owns_an_association_to_a_labelled_one() -> None:
    metadata = sa.MetaData()
    _table(metadata, "genre", _id(), sa.Column("title", sa.Text, nullable=False, unique=True))
    _table(
        metadata,
        "film",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
    )
    # The genre comes first, and lists of film ids could go in the genres, but films have no
    # label: lists of genre labels go in the films instead.
    _association(metadata, "genre_film", "genre", "film")
    spec = derive_spec(metadata)
    assert dict(rows_of(spec, "film").fields)["genre"] == Links(
        "genre_film", "film_id", "genre_id", "genre"
    )


def test_an_association_of_integer_ids_without_labels_keeps_its_own_file() -> None:
    metadata = sa.MetaData()
    for name in ("film", "genre"):
        _table(metadata, name, _id(), sa.Column("title", sa.Text, nullable=False))
    _association(metadata, "film_genre", "film", "genre")
    spec = derive_spec(metadata)
    assert [file.rows.table for file in spec.files] == ["film", "genre", "film_genre"]
    assert dict(rows_of(spec, "film_genre").fields) == {
        "film_id": Value("film_id"),
        "genre_id": Value("genre_id"),
    }


def test_an_association_of_text_ids_without_labels_is_a_list_of_ids() -> None:
    metadata = sa.MetaData()
    for name in ("film", "genre"):
        _table(metadata, name, sa.Column("id", sa.Text, primary_key=True))
    _association(metadata, "film_genre", "film", "genre")
    spec = derive_spec(metadata)
    assert dict(rows_of(spec, "film").fields)["genre"] == Links(
        "film_genre", "film_id", "genre_id", "genre"
    )


def test_a_hierarchy_association_is_named_after_its_table() -> None:
    metadata = sa.MetaData()
    _table(metadata, "topic", _id(), sa.Column("name", sa.Text, nullable=False, unique=True))
    _association(metadata, "topic_parent", "topic", "topic")
    spec = derive_spec(metadata)
    assert [file.rows.table for file in spec.files] == ["topic"]
    assert dict(rows_of(spec, "topic").fields)["topic_parent"] == Links(
        "topic_parent", "child", "parent", "topic"
    )


def test_an_association_list_takes_the_table_name_where_the_other_name_is_a_column() -> None:
    metadata = sa.MetaData()
    _table(metadata, "genre", _id(), sa.Column("title", sa.Text, nullable=False, unique=True))
    _table(
        metadata,
        "film",
        _id(),
        sa.Column("title", sa.Text, nullable=False, unique=True),
        sa.Column("genre", sa.Text),
    )
    _association(metadata, "film_genre", "film", "genre")
    fields = dict(rows_of(derive_spec(metadata), "film").fields)
    assert fields["genre"] == Value("genre")
    assert fields["film_genre"] == Links("film_genre", "film_id", "genre_id", "genre")


def test_the_derived_spec_reads_what_a_project_writes(tmp_path: Path) -> None:
    """A small project with no spec of its own: its seeddata/ in the derived layout."""
    metadata = sa.MetaData()
    _table(metadata, "topic", _id(), sa.Column("name", sa.Text, nullable=False, unique=True))
    _association(metadata, "topic_parent", "topic", "topic")
    (tmp_path / "topic.jsonl").write_text(
        '{"id": 1, "name": "algebra"}\n'
        '{"id": 2, "name": "groups", "topic_parent": ["algebra"]}\n'
        '{"id": 3, "name": "rings", "topic_parent": ["algebra", "groups"]}\n',
        encoding="utf-8",
    )
    loaded = load_seeddata(tmp_path, derive_spec(metadata), metadata)
    assert sorted(loaded.rows["topic_parent"]) == [(2, 1), (3, 1), (3, 2)]
