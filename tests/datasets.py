"""Helpers that make datasets and write them straight into a database, for tests."""

from __future__ import annotations

import sqlalchemy as sa
from frozen_lumina.models import metadata

from alembic_seeds.apply.order import parents_first
from alembic_seeds.apply.values import to_database
from alembic_seeds.changes.changeset import Dataset
from tests.databases import engine_for


def seed_by_other_means(url: str, dataset: Dataset) -> None:
    """Write the rows directly, as an earlier seeding tool would have."""
    engine = engine_for(url)
    with engine.begin() as connection:
        for name in parents_first(metadata, dataset):
            table = metadata.tables[name]
            rows = [
                {c: to_database(table.c[c], v) for c, v in row.items()}
                for row in dataset[name].values()
            ]
            if rows:
                connection.execute(table.insert(), rows)
    engine.dispose()


def closed_under_references(partial: Dataset) -> Dataset:
    """Drop rows whose references point outside ``partial``, until none do."""
    result = {t: dict(rows) for t, rows in partial.items()}
    changed = True
    while changed:
        changed = False
        for name, rows in result.items():
            table = metadata.tables[name]
            for key in list(rows):
                for fk in table.foreign_keys:
                    target = fk.column.table.name
                    value = rows[key].get(fk.parent.name)
                    if value is not None and (value,) not in result.get(target, {}):
                        del rows[key]
                        changed = True
                        break
    return result


def scaled(dataset: Dataset, copies: int) -> Dataset:
    """``copies`` copies of every row, ids suffixed per copy so every reference stays inside
    its copy; texts under a unique constraint get the suffix too."""
    result: Dataset = {name: {} for name in dataset}
    for copy in range(copies):
        suffix = "" if copy == 0 else f"~{copy}"
        for name, rows in dataset.items():
            table = metadata.tables[name]
            ids = {c.name for c in table.primary_key} | {
                fk.parent.name for fk in table.foreign_keys
            }
            texts = {
                column.name
                for constraint in table.constraints
                if isinstance(constraint, sa.UniqueConstraint)
                and not any(column.name in ids for column in constraint.columns)
                for column in constraint.columns
            }
            keys = [c.name for c in table.primary_key]
            for row in rows.values():
                new = {
                    c: (f"{v}{suffix}" if c in ids | texts and isinstance(v, str) else v)
                    for c, v in row.items()
                }
                result[name][tuple(new[k] for k in keys)] = new
    return result


def fraction(dataset: Dataset, share: float) -> Dataset:
    """About ``share`` of every table's rows, closed under references."""
    return closed_under_references(
        {
            t: dict(list(rows.items())[: max(1, int(len(rows) * share))])
            for t, rows in dataset.items()
        }
    )
