"""book.pages NOT NULL, once a data revision gave every book its page count

Revision ID: 5c0000000003
Revises: 5c0000000002
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


revision: str = "5c0000000003"
down_revision: str | Sequence[str] | None = "5c0000000002"
branch_labels: str | Sequence[str] | None = None
# The data revision that fills the column comes first.
depends_on: str | Sequence[str] | None = "da0000000002"


def _book(pages_nullable: bool) -> sa.Table:
    """The book table before the change: what SQLite's batch mode copies (no reflection,
    so that it works with --sql)."""
    return sa.Table(
        "book",
        sa.MetaData(),
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("isbn", TEXT, nullable=False, unique=True),
        sa.Column("title", TEXT, nullable=False),
        sa.Column("genre_id", TEXT, sa.ForeignKey("genre.id"), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "hardcover",
                "paperback",
                name="book_format",
                native_enum=True,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("shelf_code", TEXT, nullable=True),
        sa.Column("author_name", TEXT, nullable=False),
        sa.Column("pages", sa.Integer, nullable=pages_nullable),
    )


def upgrade() -> None:
    with op.batch_alter_table("book", copy_from=_book(True)) as batch:
        batch.alter_column("pages", existing_type=sa.Integer, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("book", copy_from=_book(False)) as batch:
        batch.alter_column("pages", existing_type=sa.Integer, nullable=True)
