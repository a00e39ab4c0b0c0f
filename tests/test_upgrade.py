"""`alembic upgrade heads` fills an empty database with exactly the reference data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from frozen_lumina.seeds import SPEC

from alembic_seeds.migration.log import entries
from tests.databases import engine_for
from tests.datasets import closed_under_references, seed_by_other_means
from tests.reference import reference_dataset
from tests.scratch import database_content, dump

SEEDED = SPEC.tables()
WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """Every statement any engine sends while the block runs."""
    statements: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", listen)


def writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith(WRITES)]


def test_upgrade_from_empty_equals_reference(alembic_env: Config, db_url: str) -> None:
    command.upgrade(alembic_env, "heads")
    content = database_content(db_url)
    expected = reference_dataset()
    assert sorted(content) == sorted(expected)
    for table, rows in expected.items():
        assert content[table].keys() == rows.keys(), table
        for key, row in rows.items():
            assert content[table][key] == row, (table, key)


def test_second_upgrade_runs_nothing_and_writes_nothing(alembic_env: Config, db_url: str) -> None:
    command.upgrade(alembic_env, "heads")
    with recorded_statements() as statements:
        command.upgrade(alembic_env, "heads")
    assert writes(statements) == []
    engine = engine_for(db_url)
    with engine.connect() as connection:
        log = entries(connection)
    engine.dispose()
    assert [entry.direction for entry in log] == ["upgrade"]


def test_downgrade_to_base_empties_data_and_keeps_schema(alembic_env: Config, db_url: str) -> None:
    command.upgrade(alembic_env, "heads")
    before = dump(database_content(db_url))
    command.downgrade(alembic_env, "seeds@base")
    emptied = database_content(db_url)
    assert all(not rows for rows in emptied.values())
    engine = engine_for(db_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert set(SEEDED) <= tables
    command.upgrade(alembic_env, "heads")
    assert dump(database_content(db_url)) == before


def test_database_seeded_by_other_means_adopts_every_row(alembic_env: Config, db_url: str) -> None:
    command.upgrade(alembic_env, "schema@head")
    seed_by_other_means(db_url, reference_dataset())
    command.upgrade(alembic_env, "heads")
    engine = engine_for(db_url)
    with engine.connect() as connection:
        (entry,) = entries(connection)
    engine.dispose()
    assert sum(c["inserted"] for c in entry.counts.values()) == 0
    assert sum(c["updated"] for c in entry.counts.values()) == 0
    assert sum(c["unchanged"] for c in entry.counts.values()) == 2741
    assert dump(database_content(db_url)) == dump(reference_dataset())


def test_different_existing_row_is_reported_and_nothing_written(
    alembic_env: Config, db_url: str
) -> None:
    command.upgrade(alembic_env, "schema@head")
    dataset = reference_dataset()
    changed = {t: dict(rows) for t, rows in dataset.items()}
    key = ("fa6eb564-ad2c-480c-9086-82a4fd474b0a",)
    changed["Translation"] = dict(dataset["Translation"])
    changed["Translation"][key] = {**dataset["Translation"][key], "he_text": "edited by hand"}
    # Half of the rows only: the rest would be inserted if the revision went ahead.
    partial = {t: dict(list(rows.items())[: len(rows) // 2 + 1]) for t, rows in changed.items()}
    partial["Translation"][key] = changed["Translation"][key]
    seed_by_other_means(db_url, closed_under_references(partial))
    before = dump(database_content(db_url))
    with pytest.raises(Exception) as raised:
        command.upgrade(alembic_env, "heads")
    message = str(raised.value)
    assert "Translation" in message
    assert "fa6eb564-ad2c-480c-9086-82a4fd474b0a" in message
    assert "he_text" in message
    assert "'edited by hand'" in message
    assert "'האוניברסיטה הפתוחה'" in message
    assert dump(database_content(db_url)) == before
