"""Temporary staging tables: the rows of one kind of change of one table, in bulk.

Column names are generated (``v<i>`` for target column ``i``, ``b<i>`` its value before,
``s<i>`` whether the row changes it, ``p<i>`` whether the row parks it first), never taken
from the target, so no name reaches SQL unquoted; the roles are kept by this class, not
spelled as strings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa


@dataclass
class Staging:
    table: sa.Table
    target: sa.Table
    #: Target column name -> the staging column with its (new) value.
    value: dict[str, sa.Column[Any]] = field(default_factory=dict)
    #: Updates: target column name -> its value before, and whether this row changes it.
    before: dict[str, sa.Column[Any]] = field(default_factory=dict)
    changed: dict[str, sa.Column[Any]] = field(default_factory=dict)
    #: Rows that step aside first: target column name -> whether this row parks it.
    park: dict[str, sa.Column[Any]] = field(default_factory=dict)
    ordinal: sa.Column[Any] | None = None
    #: Deletes: whether the row goes before the inserts.
    early: sa.Column[Any] | None = None
    #: Rows of a table that refers to itself: how many ancestors it has among the rows.
    depth: sa.Column[Any] | None = None

    @property
    def keys(self) -> list[str]:
        return [column.name for column in self.target.primary_key]

    def matches(self) -> sa.ColumnElement[bool]:
        """The staged row is the target row (same primary key)."""
        return sa.and_(*(self.target.c[k] == self.value[k] for k in self.keys))

    def differs(self) -> sa.ColumnElement[bool]:
        """The target row and the staged row differ in a column other than the key."""
        return sa.or_(
            sa.false(),
            *(
                self.target.c[name].is_distinct_from(column)
                for name, column in self.value.items()
                if not self.target.c[name].primary_key
            ),
        )


def staging_table(
    metadata: sa.MetaData,
    serial: int,
    target: sa.Table,
    columns: Sequence[str],
    *,
    with_before: Sequence[str] = (),
    park: Sequence[str] = (),
    ordinal: bool = False,
    early: bool = False,
    depth: bool = False,
    column_type: Callable[[sa.Column[Any]], sa.types.TypeEngine[Any]] | None = None,
) -> Staging:
    """A staging table for ``columns`` of ``target`` (and, for updates, ``with_before``).

    ``column_type`` gives the type of the staging column for a target column (default:
    ``staging_type``)."""
    type_of = column_type or staging_type
    staging_columns: list[sa.Column[Any]] = []
    names = target.columns.keys()
    value: dict[str, sa.Column[Any]] = {}
    before: dict[str, sa.Column[Any]] = {}
    changed: dict[str, sa.Column[Any]] = {}
    parked: dict[str, sa.Column[Any]] = {}
    for name in columns:
        index = names.index(name)
        value_type = type_of(target.c[name])
        value[name] = sa.Column(f"v{index}", value_type)
        staging_columns.append(value[name])
        if name in with_before:
            before[name] = sa.Column(f"b{index}", value_type)
            changed[name] = sa.Column(f"s{index}", sa.Boolean)
            staging_columns += [before[name], changed[name]]
    for name in park:
        parked[name] = sa.Column(f"p{names.index(name)}", sa.Boolean)
        staging_columns.append(parked[name])
    extra = {
        "ordinal": sa.Column("o", sa.Integer) if ordinal else None,
        "early": sa.Column("e", sa.Boolean) if early else None,
        "depth": sa.Column("d", sa.Integer) if depth else None,
    }
    staging_columns += [column for column in extra.values() if column is not None]
    table = sa.Table(f"seeds_staging_{serial}", metadata, *staging_columns, prefixes=["TEMPORARY"])
    return Staging(table, target, value, before, changed, parked, **extra)


def staging_type(column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
    """The type of a staging column for ``column``: its own, an enum type by name only
    (never created, no CHECK)."""
    column_type = column.type
    if isinstance(column_type, sa.Enum):
        return sa.Enum(
            *column_type.enums,
            name=column_type.name,
            native_enum=column_type.native_enum,
            create_constraint=False,
        )
    return column_type
