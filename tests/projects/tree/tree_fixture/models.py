"""Two tables that refer to themselves: a node's parent is another node."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: A plain foreign key: checked at the end of every statement (PostgreSQL, SQLite), never
#: deferred; RESTRICT forbids deleting a parent before its children.
node = sa.Table(
    "node",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("parent_id", sa.Text, sa.ForeignKey("node.id", ondelete="RESTRICT")),
    sa.Column("name", sa.Text, nullable=False),
)

#: The same shape with a DEFERRABLE foreign key (INITIALLY IMMEDIATE).
branch = sa.Table(
    "branch",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column(
        "parent_id",
        sa.Text,
        sa.ForeignKey("branch.id", deferrable=True, initially="IMMEDIATE"),
    ),
    sa.Column("name", sa.Text, nullable=False),
)
