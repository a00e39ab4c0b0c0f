"""award: the prizes a book won

Revision ID: 5c0000000006
Revises: 5c0000000005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c0000000006"
down_revision: str | Sequence[str] | None = "5c0000000005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "award",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("book_id", sa.Text, sa.ForeignKey("book.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("award")
