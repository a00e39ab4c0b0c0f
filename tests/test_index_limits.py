"""Values too large for a database's indexes are refused by validation, before deploy.

PostgreSQL refuses a btree entry over 2704 bytes (PostgreSQL 12 and later, 8 kB pages),
InnoDB an index key over 3072. ``Translation`` has a unique index over its two texts, the
workshop's ``tool`` one over its name.
"""

from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from frozen_lumina.models import metadata as lumina_metadata

from alembic_seeds import commands
from alembic_seeds.dataset import load
from alembic_seeds.dataset.indexes import InnodbDynamic, PostgresqlBtree
from alembic_seeds.errors import DatasetError
from alembic_seeds.migration.autogenerate import autogenerate
from alembic_seeds.migration.config import SeedsProject
from tests.databases import engine_for
from tests.deploy_helpers import Project, alembic_cli
from tests.fixture_projects import WORKSHOP, copy_project
from tests.scratch import database_content

HEBREW = [chr(code) for code in range(0x5D0, 0x5EB)]  # 2 bytes each in UTF-8
#: Random letters and digits: text that PostgreSQL cannot compress to make it fit.
ASCII = string.ascii_letters + string.digits
TRANSLATIONS = "translations.jsonl"


def random_text(length: int, alphabet: str | list[str], seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(length))


def lumina(root: Path) -> SeedsProject:
    copy_project(root)
    return SeedsProject.from_config(Config(str(root / "alembic.ini")))


def workshop(root: Path) -> SeedsProject:
    copy_project(root, WORKSHOP)
    return SeedsProject.from_config(Config(str(root / "alembic.ini")))


def append(project: SeedsProject, name: str, row: dict[str, Any]) -> int:
    """Add ``row`` as the last line of ``name``; its line number."""
    path = project.seeddata / name
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path.read_text("utf-8").count("\n")


def problems(project: SeedsProject) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        commands.validate(project)
    root = f"{project.seeddata.parent}/"
    return [str(problem).replace(root, "") for problem in caught.value.problems]


def test_entry_sizes_are_the_sizes_postgresql_counts(pg_url: str) -> None:
    """Counted from the values, an entry has the size the server reports, byte for byte."""
    table = lumina_metadata.tables["Translation"]
    columns = [table.c.en_text, table.c.he_text]
    btree = PostgresqlBtree()
    engine = engine_for(pg_url)
    #: (English, Hebrew) lengths around the limit, both texts long and short (texts up to
    #: 126 bytes have a 1-byte header, longer ones a 4-byte one aligned to 4 bytes).
    lengths = [(2680, 0), (2690, 1), (2691, 1), (2692, 2), (2700, 3), (126, 2562), (127, 2561)]
    lengths += [(1, 2700), (2, 2700), (3, 2700), (1400, 1400)]
    cases = [
        (random_text(en, ASCII, seed=en), random_text(he, ASCII, seed=he)) for en, he in lengths
    ]
    outcomes = set()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("CREATE TABLE t (en text, he text, UNIQUE (en, he))"))
            for number, (en, he) in enumerate(cases):
                counted = btree.entry_size(columns, [en, he])
                savepoint = connection.begin_nested()
                try:
                    connection.execute(
                        sa.text("INSERT INTO t VALUES (:en, :he)"), {"en": en, "he": he}
                    )
                except sa.exc.OperationalError as error:
                    savepoint.rollback()
                    found = re.search(r"index row size (\d+) exceeds", str(error.orig))
                    assert found is not None, error
                    assert int(found.group(1)) == counted, (number, len(en), len(he))
                    assert counted > btree.limit
                    outcomes.add("refused")
                else:
                    savepoint.commit()
                    assert counted <= btree.limit, (number, len(en), len(he), counted)
                    outcomes.add("stored")
    finally:
        engine.dispose()
    assert outcomes == {"refused", "stored"}


def test_a_translation_too_large_to_index_is_a_validation_problem(tmp_path: Path) -> None:
    project = lumina(tmp_path)
    # One English letter and 1,344 Hebrew letters (2 bytes each): an entry of exactly 2704
    # bytes, the most PostgreSQL holds.
    fits = random_text(1344, HEBREW, seed=1)
    append(project, TRANSLATIONS, {"en": "x", "he": fits})
    assert commands.validate(project).exit_code == 0
    line = append(project, TRANSLATIONS, {"en": "y", "he": random_text(1345, HEBREW, seed=2)})
    huge = append(project, TRANSLATIONS, {"en": "z" * 1_000_000, "he": "ז"})

    assert problems(project) == [
        f"seeddata/{TRANSLATIONS}:{line}: too-large-to-index: Translation (en_text, he_text): "
        "too large for an index over these columns (PostgreSQL holds at most 2704 bytes, "
        "this entry takes 2712); shorten the value, or index less of it",
        f"seeddata/{TRANSLATIONS}:{huge}: too-large-to-index: Translation (en_text, he_text): "
        "too large for an index over these columns (PostgreSQL holds at most 2704 bytes, "
        "this entry takes 1000016; MySQL/MariaDB (InnoDB) holds at most 3072 bytes, this "
        "entry takes 1000006); shorten the value, or index less of it",
    ]
    # Autogenerate refuses the same rows, and writes no revision.
    versions = sorted(project.versions.iterdir())
    with pytest.raises(DatasetError, match="too-large-to-index"):
        commands.revision(project, "texts too long to index")
    assert sorted(project.versions.iterdir()) == versions


def test_innodb_counts_text_bytes_and_length_prefixes() -> None:
    table = lumina_metadata.tables["Translation"]
    innodb = InnodbDynamic()
    # 2 length bytes per text; UTF-8 bytes, Hebrew 2 a letter.
    assert innodb.entry_size([table.c.en_text, table.c.he_text], ["ab", "אב"]) == 10
    assert innodb.entry_size([table.c.id], ["x" * 3070]) == innodb.limit


def test_just_under_the_limit_deploys_on_postgresql_and_just_over_is_refused(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    project = lumina(tmp_path)
    # ASCII that does not compress: the server holds it only because it fits as it is.
    english = random_text(2690, ASCII, seed=3)  # header 8, 4 + 2690, 2 for "x": 2704
    append(project, TRANSLATIONS, {"en": english, "he": "x"})

    generated = autogenerate(project, "the longest text an index holds")

    assert generated is not None
    command.upgrade(project.config, "heads")
    texts = database_content(pg_url, tables=["Translation"])["Translation"]
    assert english in {row["en_text"] for row in texts.values()}
    # One byte more, and the entry takes 2712 (entries are padded to 8 bytes): refused
    # before it reaches the database.
    line = append(project, TRANSLATIONS, {"en": random_text(2691, ASCII, seed=4), "he": "x"})
    (problem,) = problems(project)
    assert problem.startswith(f"seeddata/{TRANSLATIONS}:{line}: too-large-to-index: ")
    assert "this entry takes 2712" in problem


@pytest.mark.parametrize("length", [2700, 1_000_000], ids=["3kB", "1MB"])
def test_a_value_too_large_that_reaches_the_database_fails_in_one_line(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, length: int
) -> None:
    # A revision written without the check (by an older version, say) still stops with one
    # line naming the table and the row, not a traceback.
    project = workshop(tmp_path)
    append(project, "tools.jsonl", {"id": 3, "name": random_text(length, ASCII, seed=5)})
    monkeypatch.setattr(load, "oversized_rows", lambda *_args: iter(()))
    generated = autogenerate(project, "a tool with a very long name")
    assert generated is not None

    run = alembic_cli(Project(tmp_path), pg_url, "upgrade", "heads")

    assert run.returncode != 0
    failed = [line for line in run.output.splitlines() if line.startswith("FAILED:")]
    assert len(failed) == 1, run.output
    assert failed[0].startswith(
        f"FAILED: data revision {generated.revision} (upgrade): tool id=3: too large for "
    ), failed[0]
    assert "nothing was written" in failed[0]
    assert "Traceback" not in run.output
