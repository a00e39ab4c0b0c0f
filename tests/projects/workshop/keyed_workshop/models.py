"""Tools, materials and what each tool is made of.

Keys as many projects have them: an integer the database counts up (``tool``: autoincrement,
SERIAL on PostgreSQL), an identity column (``material``), and a composite key made of the two
references (``tool_material``).
"""

from typing import Final

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


metadata: Final = sa.MetaData(
    naming_convention={
        "pk": "%(table_name)s_pkey",
        "fk": "%(table_name)s_%(column_0_name)s_fkey",
        "uq": "%(table_name)s_%(column_0_name)s_key",
    }
)

tool: Final = sa.Table(
    "tool",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", TEXT, nullable=False, unique=True),
    sa.Column("weight_grams", sa.Integer),
)

material: Final = sa.Table(
    "material",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("name", TEXT, nullable=False, unique=True),
)

tool_material: Final = sa.Table(
    "tool_material",
    metadata,
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tool.id"), primary_key=True),
    sa.Column("material_id", sa.Integer, sa.ForeignKey("material.id"), primary_key=True),
    sa.Column("share_percent", sa.Integer, nullable=False),
)
