"""drop book.shelf_code, once a data revision emptied it

Revision ID: 5c0000000004
Revises: 5c0000000003
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


revision: str = "5c0000000004"
down_revision: str | Sequence[str] | None = "5c0000000003"
branch_labels: str | Sequence[str] | None = None
# The data revision that emptied the column comes first: going down, the column comes back
# empty and that revision's downgrade puts the values back.
depends_on: str | Sequence[str] | None = "da0000000004"


def upgrade() -> None:
    op.drop_column("book", "shelf_code")


def downgrade() -> None:
    op.add_column("book", sa.Column("shelf_code", TEXT, nullable=True))
