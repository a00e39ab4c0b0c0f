"""rename book.author_name to author

Revision ID: 5c0000000005
Revises: 5c0000000004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# MySQL's CHANGE COLUMN restates the column: its type as the first revision made it.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)

revision: str = "5c0000000005"
down_revision: str | Sequence[str] | None = "5c0000000004"
branch_labels: str | Sequence[str] | None = None
# The data revisions that wrote author_name come first; 5c0000000004 depends on the last of
# them already.
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "book", "author_name", new_column_name="author", existing_type=TEXT, existing_nullable=False
    )


def downgrade() -> None:
    op.alter_column(
        "book", "author", new_column_name="author_name", existing_type=TEXT, existing_nullable=False
    )
