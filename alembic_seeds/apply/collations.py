"""MySQL and MariaDB: the key columns of the tables a change set writes must compare texts by
their bytes, and every text column must hold any character.

The default collations (``utf8mb4_general_ci``, ``utf8mb4_0900_ai_ci``) ignore case, and the
PAD SPACE ones (every MariaDB collation but the ``_nopad_`` ones, ``utf8mb4_bin`` included)
ignore trailing spaces: a primary key or unique constraint on such a column merges ids that
differ (``'abc'`` and ``'ABC'``, ``''`` and ``' '``), and so do the joins of the apply step.
``utf8mb3`` and older character sets cannot hold every character (emoji need 4 bytes).
Checked in one query before anything is written, so a schema that would merge rows is named,
table and column, instead of failing halfway or silently merging.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alembic_seeds.apply.plan import Plan
from alembic_seeds.apply.schema import unique_keys
from alembic_seeds.errors import ApplyError

#: A collation that compares by bytes with no padding (MariaDB, MySQL 8).
BYTE_COLLATIONS = ("utf8mb4_nopad_bin", "utf8mb4_0900_bin")
#: The character set every text column needs.
CHARSET = "utf8mb4"


def byte_exact(collation: str | None) -> bool:
    """Whether ``collation`` (None: not a text column) tells apart every two texts that differ."""
    if collation is None or collation == "binary":
        return True
    return collation.endswith(("_nopad_bin", "_0900_bin"))


def check_byte_keys(connection: Connection, plan: Plan) -> dict[tuple[str, str], str]:
    """Raise an ``ApplyError`` naming each key column that would merge distinct values and
    each text column that cannot hold every character; nothing is written. Else the
    collation of each text column of the plan's tables, by (table, column)."""
    if not plan.tables:
        return {}
    columns = sa.table(
        "COLUMNS",
        sa.column("TABLE_SCHEMA", sa.String),
        sa.column("TABLE_NAME", sa.String),
        sa.column("COLUMN_NAME", sa.String),
        sa.column("CHARACTER_SET_NAME", sa.String),
        sa.column("COLLATION_NAME", sa.String),
        schema="information_schema",
    )
    schemas = {table.table.schema for table in plan.tables}
    names = [table.table.name for table in plan.tables]
    in_schemas: list[sa.ColumnElement[bool]] = []
    for schema in schemas:
        named: sa.ColumnElement[str] = (
            sa.func.database() if schema is None else sa.literal(schema, sa.String)
        )
        in_schemas.append(named == columns.c.TABLE_SCHEMA)
    found = connection.execute(
        sa.select(
            columns.c.TABLE_NAME,
            columns.c.COLUMN_NAME,
            columns.c.CHARACTER_SET_NAME,
            columns.c.COLLATION_NAME,
        ).where(sa.or_(*in_schemas), columns.c.TABLE_NAME.in_(names))
    ).all()
    stored = {(row[0], row[1]): (row[2], row[3]) for row in found}
    problems: list[str] = []
    for table in plan.tables:
        keys = {column.name for column in table.table.primary_key}
        for unique in unique_keys(table.table):
            keys.update(unique.columns)
        for column in table.table.columns:
            charset, collation = stored.get((table.table.name, column.name), (None, None))
            where = f"table {table.table.name}, column {column.name}"
            # An ENUM's labels are distinct under its own collation (the server refuses others).
            enum = isinstance(column.type, sa.Enum)
            if column.name in keys and not enum and not byte_exact(collation):
                problems.append(
                    f"{where}: collation {collation} ignores case or trailing spaces, so the "
                    f"key would merge distinct values; it needs {BYTE_COLLATIONS[0]} (MariaDB) "
                    f"or {BYTE_COLLATIONS[1]} (MySQL 8)"
                )
            elif charset is not None and charset not in (CHARSET, "binary"):
                problems.append(
                    f"{where}: character set {charset} cannot hold every character (emoji "
                    f"need 4 bytes); it needs {CHARSET}"
                )
    if problems:
        raise ApplyError("; ".join(problems) + "; nothing was written")
    return {key: collation for key, (_charset, collation) in stored.items() if collation}
