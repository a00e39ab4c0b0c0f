"""Labels, items, pairings and their tags, and the log of data revisions.

Revision ID: a11c00000001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alembic_seeds import create_log_table, drop_log_table

revision = "a11c00000001"
down_revision = None
branch_labels = None
depends_on = None


def _label(column: str) -> sa.Column[str]:
    return sa.Column(
        column, sa.Text, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "label",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
    )
    op.create_table(
        "item",
        sa.Column("id", sa.Text, primary_key=True),
        _label("label_id"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, unique=True),
        sa.UniqueConstraint("label_id", "position"),
    )
    op.create_table(
        "pairing",
        sa.Column("id", sa.Text, primary_key=True),
        _label("left_id"),
        _label("right_id"),
        sa.UniqueConstraint("left_id", "right_id"),
    )
    op.create_table(
        "pairing_tag",
        sa.Column(
            "pairing_id",
            sa.Text,
            sa.ForeignKey("pairing.id", ondelete="RESTRICT"),
            primary_key=True,
        ),
        sa.Column("tag", sa.Text, primary_key=True),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("pairing_tag")
    op.drop_table("pairing")
    op.drop_table("item")
    op.drop_table("label")
