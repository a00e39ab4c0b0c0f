"""The tables a data revision writes, as they are at its point in the history.

A data revision knows the schema it was written for only by the tables and columns its rows
name. Where it runs, the tables decide: it writes exactly those columns (an insert leaves
every other column to its default, an update writes the columns it changes, a delete matches
its before-image on the columns it names), and each of them must be there. Their types come
from the models where the models have the column, else from the table as it is at that point
(a column that a later schema revision dropped or renamed): reflected from the database
online, as the schema revisions made it offline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.apply.dialect import impl_for
from alembic_seeds.changes.changeset import ChangeSet, TableChanges
from alembic_seeds.errors import ApplyError


@dataclass(frozen=True)
class ColumnShape:
    name: str
    type: sa.types.TypeEngine[Any]
    nullable: bool = True
    #: Whether the database fills the column when an insert leaves it out.
    has_default: bool = False


@dataclass(frozen=True)
class TableShape:
    """A table at one point of the history: its columns in order and its primary key."""

    name: str
    columns: tuple[ColumnShape, ...]
    primary_key: tuple[str, ...]
    #: The table with its constraints, where known (reflected, or as a revision created it).
    table: sa.Table | None = None

    def column(self, name: str) -> ColumnShape | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


#: Per table named by a change set: its shape at this point, None when there is no such table.
Shapes = Mapping[str, TableShape | None]


def shape_of(table: sa.Table) -> TableShape:
    """The shape of a table as ``table`` defines it."""
    return TableShape(
        table.name,
        tuple(
            ColumnShape(
                column.name,
                column.type,
                bool(column.nullable),
                column.server_default is not None or column is table.autoincrement_column,
            )
            for column in table.columns
        ),
        tuple(column.name for column in table.primary_key),
        table,
    )


def named_columns(changes: TableChanges) -> list[str]:
    """The columns the changes of one table name, in the order they first appear."""
    names: dict[str, None] = {}
    for part in ("inserts", "updates", "deletes"):
        names.update(dict.fromkeys(changes.columns(part)))
    return list(names)


def unknown_to(metadata: sa.MetaData, changes: ChangeSet) -> list[str]:
    """The tables ``changes`` names that the models lack, or of which they lack a column the
    changes name: only these need to be read from the database."""
    unknown = []
    for name, table_changes in changes.tables.items():
        head = metadata.tables.get(name)
        if table_changes and (
            head is None or not all(c in head.c for c in named_columns(table_changes))
        ):
            unknown.append(name)
    return unknown


def live_shapes(
    connection: Connection, metadata: sa.MetaData, tables: Iterable[str]
) -> dict[str, TableShape | None]:
    """The shapes of ``tables`` in the database, read in one reflection per schema (nothing
    is sent when there are none); the other tables of the models as they describe them."""
    by_schema: dict[str | None, list[str]] = {}
    for name in tables:
        head = metadata.tables.get(name)
        schema = head.schema if head is not None else None
        by_schema.setdefault(schema, []).append(head.name if head is not None else name)
    shapes: dict[str, TableShape | None] = {
        name: shape_of(table) for name, table in metadata.tables.items()
    }
    if not by_schema:
        return shapes
    inspector = sa.inspect(connection)
    stored = impl_for(connection.dialect).stored_name
    for schema, names in by_schema.items():
        found = inspector.get_multi_columns(schema=schema, filter_names=[stored(n) for n in names])
        for name in names:
            key = f"{schema}.{name}" if schema else name
            columns = found.get((schema, stored(name)))
            if columns is None:
                shapes[key] = None
                continue
            head = metadata.tables.get(key)
            # The database may keep a long name cut short (PostgreSQL: 63 bytes).
            model_names = {stored(c.name): c.name for c in head.columns} if head is not None else {}
            for column in columns:
                column["name"] = model_names.get(column["name"], column["name"])
            table = None
            if head is None:
                # Only a table the models do not know needs its constraints read too.
                table = sa.Table(
                    name, sa.MetaData(), schema=schema, autoload_with=connection, resolve_fks=False
                )
                primary_key = tuple(column.name for column in table.primary_key)
            else:
                primary_key = tuple(column.name for column in head.primary_key)
            shapes[key] = TableShape(
                key,
                tuple(
                    ColumnShape(
                        column["name"],
                        column["type"],
                        bool(column["nullable"]),
                        column.get("default") is not None or bool(column.get("autoincrement")),
                    )
                    for column in columns
                ),
                primary_key,
                table,
            )
    return shapes


def tables_at(metadata: sa.MetaData, changes: ChangeSet, shapes: Shapes) -> sa.MetaData:
    """The metadata to write ``changes`` with, where the tables are as ``shapes`` say.

    The models as they are when they hold every table and column the changes name (the
    usual case: nothing is copied); else a copy with the columns and tables they lack,
    typed as ``shapes`` say. A table or column the changes name that ``shapes`` lacks is an
    error naming them: the revision runs before the schema revision that makes them, or
    after one that drops them.
    """
    missing: list[str] = []
    extra: dict[str, list[ColumnShape]] = {}
    unknown: list[TableShape] = []
    for name, table_changes in changes.tables.items():
        if not table_changes:
            continue
        shape = shapes.get(name)
        if shape is None:
            missing.append(f"table {name}")
            continue
        named = named_columns(table_changes)
        absent = [column for column in named if shape.column(column) is None]
        missing += [f"column {name}.{column}" for column in absent]
        head = metadata.tables.get(name)
        if head is None:
            unknown.append(shape)
            continue
        columns = [c for n in named if n not in head.c and (c := shape.column(n)) is not None]
        if columns:
            extra[name] = columns
    if missing:
        raise ApplyError(
            f"the database has no {', '.join(missing)}, which the revision writes: it runs "
            "before the schema revision that makes it (a data revision must depend_on the "
            "schema revisions it was written for), or after one that drops or renames it "
            "(which must depend_on the data revisions that wrote it)"
        )
    if not extra and not unknown:
        return metadata
    moment = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(moment)
    for name, columns in extra.items():
        for column in columns:
            moment.tables[name].append_column(
                sa.Column(column.name, column.type, nullable=column.nullable)
            )
    for shape in unknown:
        _add_table(moment, shape)
    return moment


def _add_table(metadata: sa.MetaData, shape: TableShape) -> sa.Table:
    """``shape`` as a table of ``metadata``, with the constraints of its definition that
    still fit it (references to tables ``metadata`` has, unique constraints)."""
    items: list[Any] = [sa.Column(c.name, c.type, nullable=c.nullable) for c in shape.columns]
    if shape.primary_key:
        items.append(sa.PrimaryKeyConstraint(*shape.primary_key))
    names = set(shape.names)
    if shape.table is not None:
        for constraint in shape.table.constraints:
            columns = [column.name for column in getattr(constraint, "columns", ())]
            if not columns or not names.issuperset(columns):
                continue
            if isinstance(constraint, sa.ForeignKeyConstraint):
                targets = [element.target_fullname for element in constraint.elements]
                referred = {target.rsplit(".", 1)[0] for target in targets}
                if referred <= {*metadata.tables, shape.name}:
                    items.append(sa.ForeignKeyConstraint(columns, targets, name=constraint.name))
            elif isinstance(constraint, sa.UniqueConstraint):
                items.append(sa.UniqueConstraint(*columns, name=constraint.name))
    schema, _, name = shape.name.rpartition(".")
    return sa.Table(name, metadata, *items, schema=schema or None)
