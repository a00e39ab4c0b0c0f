"""The order in which tables are written, from the foreign keys of the metadata."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable

import sqlalchemy as sa

from alembic_seeds.errors import SchemaError


def parents_first(metadata: sa.MetaData, tables: Iterable[str]) -> list[str]:
    """``tables`` ordered so that every table comes after the tables it refers to.

    A table referring to itself is fine (rows of one statement are checked together);
    a cycle through several tables is reported with its path.
    """
    wanted = set(tables)
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in sorted(wanted):
        sorter.add(name)
        for key in metadata.tables[name].foreign_keys:
            parent = key.column.table.name
            if parent != name and parent in wanted:
                sorter.add(name, parent)
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise SchemaError(f"foreign keys form a cycle: {cycle}") from None
