"""The two trees and the log of data revisions.

Revision ID: 7e1a00000001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alembic_seeds import create_log_table, drop_log_table

revision = "7e1a00000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("parent_id", sa.Text, sa.ForeignKey("node.id", ondelete="RESTRICT")),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "branch",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column(
            "parent_id",
            sa.Text,
            sa.ForeignKey("branch.id", deferrable=True, initially="IMMEDIATE"),
        ),
        sa.Column("name", sa.Text, nullable=False),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("branch")
    op.drop_table("node")
