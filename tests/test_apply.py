"""The apply engine: set-based statements, adoption of identical rows, reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from frozen_lumina.models import metadata
from frozen_lumina.seeds import SPEC

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.changes.changeset import ChangeSet, Dataset, diff
from alembic_seeds.dataset.load import primary_keys
from alembic_seeds.errors import DriftError
from tests.databases import engine_for
from tests.datasets import fraction, scaled, seed_by_other_means
from tests.reference import reference_dataset

KEYS = primary_keys(metadata, SPEC.tables())


@contextmanager
def counted(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def inserts_of(dataset: Dataset) -> ChangeSet:
    return diff(dataset, {}, KEYS)


def apply_and_count(url: str, changes: ChangeSet) -> tuple[int, int, int]:
    """(statements the report counts, statements SQLAlchemy saw, rows inserted)."""
    engine = engine_for(url)
    try:
        with counted(engine) as seen, engine.begin() as connection:
            report = apply_changes(connection, metadata, changes)
        total = report.total()
        return total.statements, len(seen), total.inserted
    finally:
        engine.dispose()


def test_statements_grow_with_tables_not_rows(alembic_env: Config, db_url: str) -> None:
    small = reference_dataset()
    large = scaled(small, 4)
    command.upgrade(alembic_env, "schema@head")
    small_counts = apply_and_count(db_url, inserts_of(small))
    command.downgrade(alembic_env, "base")
    command.upgrade(alembic_env, "schema@head")
    full_counts = apply_and_count(db_url, inserts_of(large))
    assert small_counts[2] == 2741
    assert full_counts[2] == 4 * 2741
    # Same tables, four times the rows: the very same number of statements.
    assert small_counts[:2] == full_counts[:2]
    if db_url.startswith("postgresql"):
        # COPY goes through the driver directly: the report counts it, SQLAlchemy does not.
        assert full_counts[0] == full_counts[1] + len(small)
    else:
        assert full_counts[0] == full_counts[1]


def test_identical_rows_are_adopted_and_different_rows_reported(
    alembic_env: Config, db_url: str
) -> None:
    command.upgrade(alembic_env, "schema@head")
    full = reference_dataset()
    part = fraction(full, 0.3)
    seed_by_other_means(db_url, part)
    engine = engine_for(db_url)
    with engine.begin() as connection:
        report = apply_changes(connection, metadata, inserts_of(full))
    total = report.total()
    part_rows = sum(len(rows) for rows in part.values())
    assert total.unchanged == part_rows
    assert total.inserted == 2741 - part_rows
    assert total.updated == 0
    changes = inserts_of(full)
    inserts = list(changes.tables["Translation"].inserts)
    translation = inserts[0]
    inserts[0] = {**translation, "en_text": "Changed"}
    changes.tables["Translation"].inserts = inserts
    with pytest.raises(DriftError) as raised, engine.begin() as connection:
        apply_changes(connection, metadata, changes)
    engine.dispose()
    message = str(raised.value)
    assert f"id={translation['id']!r}" in message
    assert f"en_text: database has {translation['en_text']!r}, expected 'Changed'" in message
