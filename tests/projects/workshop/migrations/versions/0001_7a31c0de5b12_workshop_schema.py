"""Workshop schema: tools, materials, what tools are made of, and the data revisions' log.

Revision ID: 7a31c0de5b12
Revises: (none)
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from alembic_seeds import create_log_table, drop_log_table

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


revision: str = "7a31c0de5b12"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("schema",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tool",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("weight_grams", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="tool_pkey"),
        sa.UniqueConstraint("name", name="tool_name_key"),
    )
    op.create_table(
        "material",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="material_pkey"),
        sa.UniqueConstraint("name", name="material_name_key"),
    )
    op.create_table(
        "tool_material",
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("material_id", sa.Integer, nullable=False),
        sa.Column("share_percent", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tool_id", "material_id", name="tool_material_pkey"),
        sa.ForeignKeyConstraint(["tool_id"], ["tool.id"], name="tool_material_tool_id_fkey"),
        sa.ForeignKeyConstraint(
            ["material_id"], ["material.id"], name="tool_material_material_id_fkey"
        ),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("tool_material")
    op.drop_table("material")
    op.drop_table("tool")
