"""Three tables with generated keys, and the log of data revisions.

Revision ID: c0a700000001
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


revision = "c0a700000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "colour",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", TEXT, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "size",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", TEXT, nullable=False),
    )
    if op.get_context().dialect.name == "postgresql":  # SQLite has no sequences
        op.execute(sa.schema.CreateSequence(sa.Sequence("shape_id_seq")))
    op.create_table(
        "shape",
        sa.Column("id", sa.Integer, sa.Sequence("shape_id_seq"), primary_key=True),
        sa.Column("name", TEXT, nullable=False),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("shape")
    if op.get_context().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("shape_id_seq")))
    op.drop_table("size")
    op.drop_table("colour")
