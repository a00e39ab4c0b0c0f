"""What the apply plan needs to know of a table's constraints, read from the metadata.

Unique constraints (and unique indexes), the foreign keys of a table to itself, the columns
that can briefly hold a value that collides with nothing, and the column whose values come
from a sequence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class UniqueKey:
    """A unique constraint or unique index over plain columns (the primary key aside)."""

    table: str
    name: str | None
    columns: tuple[str, ...]
    deferrable: bool

    def __str__(self) -> str:
        return f"{self.table} ({', '.join(self.columns)})"


@dataclass(frozen=True)
class SelfReference:
    """A foreign key of a table to itself: ``columns`` refer to ``referred`` of the same table."""

    columns: tuple[str, ...]
    referred: tuple[str, ...]


class Parking(enum.Enum):
    """How a column can hold a value that collides with no other row for a moment."""

    NULL = "null"  # a nullable column: NULL never collides in a unique constraint
    TEXT = "text"  # a marker no seed data can hold (a control character) and a number
    NUMBER = "number"  # above every value the table holds or the change set writes


def unique_keys(table: sa.Table) -> list[UniqueKey]:
    keys: list[UniqueKey] = []
    primary = tuple(column.name for column in table.primary_key)
    for constraint in sorted(table.constraints, key=_constraint_order):
        if isinstance(constraint, sa.UniqueConstraint):
            columns = tuple(column.name for column in constraint.columns)
            if columns and columns != primary:
                keys.append(
                    UniqueKey(
                        table.name, _name(constraint.name), columns, bool(constraint.deferrable)
                    )
                )
    for index in sorted(table.indexes, key=lambda index: str(index.name)):
        # Only indexes over plain columns: an expression cannot be given a parked value.
        if index.unique and len(index.expressions) == len(index.columns):
            columns = tuple(column.name for column in index.columns)
            if columns and columns != primary and all(k.columns != columns for k in keys):
                keys.append(UniqueKey(table.name, _name(index.name), columns, False))
    return keys


def self_references(table: sa.Table) -> list[SelfReference]:
    references = []
    for constraint in sorted(table.foreign_key_constraints, key=_constraint_order):
        if constraint.referred_table is table:
            references.append(
                SelfReference(
                    tuple(column.name for column in constraint.columns),
                    tuple(element.column.name for element in constraint.elements),
                )
            )
    return references


def referenced_columns(metadata: sa.MetaData, table: sa.Table) -> set[str]:
    """Columns of ``table`` that a foreign key of any table of ``metadata`` points at."""
    referenced: set[str] = set()
    for other in metadata.tables.values():
        for key in other.foreign_keys:
            if key.column.table is table:
                referenced.add(key.column.name)
    return referenced


def parking_of(column: sa.Column[Any], referenced: set[str]) -> Parking | None:
    """How ``column`` can step aside, or None when it cannot (keys, references, enums, ...)."""
    if column.primary_key or column.name in referenced:
        return None
    if column.nullable:
        return Parking.NULL
    if column.foreign_keys:
        return None
    column_type = column.type
    if isinstance(column_type, sa.String) and not isinstance(column_type, sa.Enum):
        return Parking.TEXT
    if isinstance(column_type, sa.Integer | sa.Numeric) and not isinstance(column_type, sa.Boolean):
        return Parking.NUMBER
    return None


def sequence_column(table: sa.Table) -> sa.Column[Any] | None:
    """The integer key column whose values a sequence or identity hands out, if any."""
    column = table.autoincrement_column
    if column is not None:
        return column
    for candidate in table.primary_key.columns:
        if isinstance(candidate.default, sa.Sequence) or candidate.identity is not None:
            return candidate
    return None


def _name(name: Any) -> str | None:
    return str(name) if isinstance(name, str) and name else None


def _constraint_order(constraint: sa.Constraint) -> tuple[str, ...]:
    return (str(constraint.name), *(column.name for column in getattr(constraint, "columns", ())))
