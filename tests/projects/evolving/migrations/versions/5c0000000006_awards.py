"""award: the prizes a book won

Revision ID: 5c0000000006
Revises: 5c0000000005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


revision: str = "5c0000000006"
down_revision: str | Sequence[str] | None = "5c0000000005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "award",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("book_id", TEXT, sa.ForeignKey("book.id"), nullable=False),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("year", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("award")
