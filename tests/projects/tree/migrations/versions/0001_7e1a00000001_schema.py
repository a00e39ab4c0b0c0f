"""The two trees and the log of data revisions.

Revision ID: 7e1a00000001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from alembic_seeds import create_log_table, drop_log_table

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


revision = "7e1a00000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("parent_id", TEXT, sa.ForeignKey("node.id", ondelete="RESTRICT")),
        sa.Column("name", TEXT, nullable=False),
    )
    op.create_table(
        "branch",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column(
            "parent_id",
            TEXT,
            # MySQL has no deferrable constraints (and no syntax for them).
            sa.ForeignKey("branch.id", deferrable=True, initially="IMMEDIATE")
            if op.get_context().dialect.name not in ("mysql", "mariadb")
            else sa.ForeignKey("branch.id"),
        ),
        sa.Column("name", TEXT, nullable=False),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("branch")
    op.drop_table("node")
