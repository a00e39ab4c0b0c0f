"""Labels, items, pairings and their tags, and the log of data revisions.

Revision ID: a11c00000001
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


revision = "a11c00000001"
down_revision = None
branch_labels = None
depends_on = None


def _label(column: str) -> sa.Column[str]:
    return sa.Column(column, TEXT, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "label",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("code", TEXT, nullable=False, unique=True),
        sa.Column("title", TEXT, nullable=False),
    )
    op.create_table(
        "item",
        sa.Column("id", TEXT, primary_key=True),
        _label("label_id"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("note", TEXT, unique=True),
        sa.UniqueConstraint("label_id", "position"),
    )
    op.create_table(
        "pairing",
        sa.Column("id", TEXT, primary_key=True),
        _label("left_id"),
        _label("right_id"),
        sa.UniqueConstraint("left_id", "right_id"),
    )
    op.create_table(
        "pairing_tag",
        sa.Column(
            "pairing_id",
            TEXT,
            sa.ForeignKey("pairing.id", ondelete="RESTRICT"),
            primary_key=True,
        ),
        sa.Column("tag", TEXT, primary_key=True),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("pairing_tag")
    op.drop_table("pairing")
    op.drop_table("item")
    op.drop_table("label")
