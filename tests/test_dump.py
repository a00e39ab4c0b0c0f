"""``seeds dump``: seeddata/ written from a database that already holds the reference data.

The database is filled by plain INSERTs, as a project that adopts alembic-seeds has it; the
first revision generated from the dump recreates that content on an empty database, and the
database it came from adopts every row without a write.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from geography_fixture.models import metadata as geography

from alembic_seeds import FileSpec, RowSpec, SeedSpec, Value
from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.changes.changeset import Dataset
from alembic_seeds.cli import main
from alembic_seeds.commands import EXIT_ERROR, EXIT_OK, check, dump, load_project, revision
from alembic_seeds.errors import DatasetError, UnplacedRowsError
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.log import entries
from tests.databases import alembic_config, engine_for, sqlite_file_url, temporary_database
from tests.fixture_projects import GEOGRAPHY, copy_project

#: What the source database holds, table by table in an order its foreign keys allow.
#: Subdivision 5 lies within 9: the dump, in key order, writes the child first.
SOURCE: dict[str, list[dict[str, Any]]] = {
    "country": [
        {"id": 1, "iso_code": "FR", "name": "France"},
        {"id": 2, "iso_code": "IT", "name": "Italia"},
    ],
    "tag": [{"id": 1, "name": "coastal"}, {"id": 2, "name": "wine"}],
    "subdivision": [
        {"id": 9, "code": "IT-52", "name": "Toscana", "country_id": 2, "parent_id": None},
        {"id": 5, "code": "IT-FI", "name": "Firenze", "country_id": 2, "parent_id": 9},
        {"id": 7, "code": "IT-LI", "name": "Livorno", "country_id": 2, "parent_id": 9},
        {"id": 3, "code": "FR-BRE", "name": "Bretagne", "country_id": 1, "parent_id": None},
    ],
    "subdivision_tag": [
        {"subdivision_id": 9, "tag_id": 2},
        {"subdivision_id": 9, "tag_id": 1},
        {"subdivision_id": 7, "tag_id": 1},
        {"subdivision_id": 3, "tag_id": 1},
    ],
    "city": [
        {"id": 1, "name": "Firenze", "subdivision_id": 5, "population": 360930},
        {"id": 2, "name": "Livorno", "subdivision_id": 7, "population": None},
        {"id": 3, "name": "L'Île-Tudy", "subdivision_id": 3, "population": 750},
    ],
    "airport": [
        {"iata": "FLR", "name": "Firenze Peretola", "city_id": 1},
        {"iata": "LIV", "name": 'Livorno "Amerigo"', "city_id": 2},
    ],
}


def expected(source: dict[str, list[dict[str, Any]]] = SOURCE) -> Dataset:
    keys = {name: [c.name for c in geography.tables[name].primary_key] for name in source}
    return {
        name: {tuple(row[k] for k in keys[name]): row for row in rows}
        for name, rows in source.items()
    }


def insert(url: str, source: dict[str, list[dict[str, Any]]] = SOURCE) -> None:
    """Plain INSERT statements, one table after the other."""
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            for name, rows in source.items():
                columns = list(rows[0])
                statement = sa.text(
                    f"INSERT INTO {name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join(':' + c for c in columns)})"
                )
                connection.execute(statement, rows)
    finally:
        engine.dispose()


def content(url: str) -> Dataset:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return read_dataset(connection, geography, list(SOURCE))
    finally:
        engine.dispose()


@pytest.fixture
def fresh(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty database, on the backend of ``db_url``."""
    if request.getfixturevalue("db_url").startswith("sqlite"):
        yield sqlite_file_url(tmp_path / "empty.db")
        return
    with temporary_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


@pytest.fixture
def adopting(tmp_path: Path) -> Path:
    """The geography project before its first data revision, with an empty seeddata/."""
    return copy_project(tmp_path / "geography", GEOGRAPHY, seeddata=False, data_revisions=False)


@pytest.fixture
def source(adopting: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``db_url`` with the geography's schema, filled by plain INSERTs, as DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    command.upgrade(alembic_config(adopting), "schema@head")
    insert(db_url)
    return db_url


def test_dump_then_revision_recreates_the_content_and_the_source_adopts_it(
    adopting: Path, source: str, fresh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(adopting / "alembic.ini")
    outcome = dump(project)
    assert outcome.exit_code == EXIT_OK, outcome.output
    assert outcome.lines[0].startswith("Wrote 5 file(s) of ")
    assert outcome.lines[0].endswith(": 17 rows of 6 tables")
    seeddata = adopting / "seeddata"
    assert sorted(path.name for path in seeddata.iterdir()) == [
        "airport.jsonl",
        "city.jsonl",
        "country.jsonl",
        "subdivision.jsonl",
        "tag.jsonl",
    ]
    # References by label: the country by ISO code, the parent by its code, tags by name.
    assert (seeddata / "subdivision.jsonl").read_text(encoding="utf-8").splitlines()[:2] == [
        '{"id": 3, "code": "FR-BRE", "name": "Bretagne", "country": "FR", "tag": ["coastal"]}',
        '{"id": 5, "code": "IT-FI", "name": "Firenze", "country": "IT", "parent": "IT-52"}',
    ]
    assert revision(project, "the geography as the database holds it").exit_code == EXIT_OK

    # An empty database gets exactly the source's content.
    monkeypatch.setenv("DATABASE_URL", fresh)
    command.upgrade(alembic_config(adopting), "heads")
    assert content(fresh) == expected()

    # The source database adopts every row: nothing inserted, updated or deleted.
    monkeypatch.setenv("DATABASE_URL", source)
    command.upgrade(alembic_config(adopting), "heads")
    assert content(source) == expected()
    engine = engine_for(source)
    try:
        with engine.connect() as connection:
            (entry,) = entries(connection)
    finally:
        engine.dispose()
    totals = {
        word: sum(counts[word] for counts in entry.counts.values())
        for word in ("inserted", "updated", "deleted", "unchanged")
    }
    assert totals == {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 17}


def test_dump_refuses_a_seeddata_folder_with_files_unless_forced(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_project(tmp_path / "geography", GEOGRAPHY, data_revisions=False)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    command.upgrade(alembic_config(root), "schema@head")
    insert(sqlite_url, {name: SOURCE[name] for name in ("country", "tag")})
    seeddata = root / "seeddata"
    before = {path.name: path.read_bytes() for path in seeddata.iterdir()}
    ini = str(root / "alembic.ini")

    refused = CliRunner().invoke(main, ["-c", ini, "dump"])
    assert refused.exit_code == EXIT_ERROR
    assert refused.stderr == (
        f"error: {seeddata} already has 5 file(s) (airport.jsonl, ...): seeds dump writes "
        "only into an empty seeddata/ (--force overwrites them)\n"
    )
    assert {path.name: path.read_bytes() for path in seeddata.iterdir()} == before

    database = Path(sqlite_url.removeprefix("sqlite:///"))
    before_dump = database.read_bytes()
    forced = CliRunner().invoke(main, ["-c", ini, "dump", "--force"])
    assert forced.exit_code == EXIT_OK, forced.output
    assert database.read_bytes() == before_dump  # it only reads
    # The files of tables the database leaves empty are gone.
    assert sorted(path.name for path in seeddata.iterdir()) == ["country.jsonl", "tag.jsonl"]
    assert (seeddata / "tag.jsonl").read_text(encoding="utf-8") == (
        '{"id": 1, "name": "coastal"}\n{"id": 2, "name": "wine"}\n'
    )


def test_dump_writes_nothing_when_a_row_would_not_validate(
    adopting: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    command.upgrade(alembic_config(adopting), "schema@head")
    decomposed = unicodedata.normalize("NFD", "Île-de-France")
    insert(sqlite_url, {"country": [{"id": 1, "iso_code": "FR", "name": decomposed}]})
    with pytest.raises(DatasetError) as raised:
        dump(load_project(adopting / "alembic.ini"))
    ((problem,),) = [raised.value.problems]
    assert (problem.path, problem.line, problem.rule) == (
        f"{adopting / 'seeddata'}/country.jsonl",
        1,
        "not-nfc",
    )
    assert list((adopting / "seeddata").iterdir()) == []


def test_dump_writes_nothing_when_the_spec_cannot_hold_a_column(
    adopting: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    command.upgrade(alembic_config(adopting), "schema@head")
    insert(sqlite_url, {"tag": SOURCE["tag"]})
    project = load_project(adopting / "alembic.ini")
    # A spec that has no field for the tag's name.
    narrow = SeedSpec(files=(FileSpec("tags.jsonl", RowSpec("tag", {"id": Value("id")})),))
    outcome = dump(dataclasses.replace(project, spec=narrow))
    assert outcome.exit_code == EXIT_ERROR
    assert outcome.lines == ["  tag: read back from seeddata/, 2 rows would differ in name"]
    assert outcome.error is not None and "nothing was written" in outcome.error
    assert list((adopting / "seeddata").iterdir()) == []


def test_dump_of_the_lumina_database_is_what_its_revisions_hold(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts in place, owned blocks, labels that need an id: the dump of a database seeded
    by the frozen Lumina revisions is seeddata/ those revisions capture exactly."""
    root = copy_project(tmp_path / "lumina", seeddata=False)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    command.upgrade(alembic_config(root), "heads")
    project: SeedsProject = load_project(root / "alembic.ini")
    assert dump(project).exit_code == EXIT_OK
    outcome = check(project)
    assert outcome.exit_code == EXIT_OK, outcome.output
    assert outcome.lines[0].startswith("seeddata/: every change is captured")

    # A block that no course or module owns has no place in seeddata/: nothing is written.
    engine = engine_for(sqlite_url)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO \"Block\" (id) VALUES ('unowned')"))
    engine.dispose()
    files = {path: path.read_bytes() for path in project.seeddata.rglob("*.jsonl")}
    with pytest.raises(
        UnplacedRowsError, match=r"Block rows with no place in seeddata: \['unowned'\]"
    ):
        dump(project, force=True)
    assert {path: path.read_bytes() for path in project.seeddata.rglob("*.jsonl")} == files
