"""The values a row holds while it steps aside for another row's unique values.

Each is an SQL expression, so online and offline SQL park the same way:

- a nullable column: NULL (unique constraints never compare NULLs equal);
- a text column: the control character U+001F and the row's ordinal. The loader refuses
  control characters in seed data, and the ordinal differs from row to row;
- a number column: one more than the largest value the table holds or the change set
  writes, plus the ordinal (read when the statement runs, through a derived table, which
  MySQL also accepts from the table it updates).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from alembic_seeds.apply.schema import Parking

#: Starts every parked text: a character no seed data can hold.
MARKER = "\x1f"


class parking_marker(FunctionElement[str]):
    """``MARKER``, spelled as a function call so that no control character is printed."""

    type = sa.Text()
    inherit_cache = True


@compiles(parking_marker)
def _char(element: parking_marker, compiler: SQLCompiler, **kw: Any) -> str:
    return f"char({ord(MARKER)})"


@compiles(parking_marker, "mysql")
@compiles(parking_marker, "mariadb")
def _char_using(element: parking_marker, compiler: SQLCompiler, **kw: Any) -> str:
    # CHAR() alone makes a binary string on MySQL.
    return f"char({ord(MARKER)} USING utf8mb4)"


@compiles(parking_marker, "postgresql")
def _chr(element: parking_marker, compiler: SQLCompiler, **kw: Any) -> str:
    return f"chr({ord(MARKER)})"


def parked_value(
    table: sa.Table,
    column: str,
    parking: Parking,
    ordinal: sa.ColumnElement[Any],
    floor: Any = None,
) -> sa.ColumnElement[Any]:
    target = table.c[column]
    if parking is Parking.NULL:
        return sa.null()
    if parking is Parking.TEXT:
        return parking_marker() + sa.cast(ordinal, sa.Text)
    # An alias, so that the subquery never correlates with the table being updated.
    other = table.alias("seeds_parking_source")
    highest = [sa.select(sa.func.max(other.c[column]).label("m"))]
    if floor is not None:
        highest.append(sa.select(sa.literal(floor, target.type).label("m")))
    values = (
        sa.union_all(*highest).subquery("seeds_parking")
        if len(highest) > 1
        else (highest[0].subquery("seeds_parking"))
    )
    top = sa.select(sa.func.coalesce(sa.func.max(values.c.m), 0)).scalar_subquery()
    return top + 1 + ordinal
