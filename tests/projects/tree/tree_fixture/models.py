"""Two tables that refer to themselves: a node's parent is another node."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


metadata = sa.MetaData()

#: A plain foreign key: checked at the end of every statement (PostgreSQL, SQLite), never
#: deferred; RESTRICT forbids deleting a parent before its children.
node = sa.Table(
    "node",
    metadata,
    sa.Column("id", TEXT, primary_key=True),
    sa.Column("parent_id", TEXT, sa.ForeignKey("node.id", ondelete="RESTRICT")),
    sa.Column("name", TEXT, nullable=False),
)

#: The same shape with a DEFERRABLE foreign key (INITIALLY IMMEDIATE).
branch = sa.Table(
    "branch",
    metadata,
    sa.Column("id", TEXT, primary_key=True),
    sa.Column(
        "parent_id",
        TEXT,
        sa.ForeignKey("branch.id", deferrable=True, initially="IMMEDIATE"),
    ),
    sa.Column("name", TEXT, nullable=False),
)
