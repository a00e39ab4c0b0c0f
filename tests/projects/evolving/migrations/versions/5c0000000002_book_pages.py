"""book.pages: nullable, the books already there have none yet

Revision ID: 5c0000000002
Revises: 5c0000000001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c0000000002"
down_revision: str | Sequence[str] | None = "5c0000000001"
branch_labels: str | Sequence[str] | None = None
# Only adds: the data revisions before it do not name the column.
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("book", sa.Column("pages", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("book", "pages")
