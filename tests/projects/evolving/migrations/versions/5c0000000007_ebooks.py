"""book_format gains the label "ebook"

PostgreSQL adds it in place (committed on its own: a label added in a transaction cannot be
used before that transaction commits); SQLite rebuilds book with the new CHECK constraint,
foreign keys off meanwhile (award refers to book).

Revision ID: 5c0000000007
Revises: 5c0000000006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import alembic_seeds

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


revision: str = "5c0000000007"
down_revision: str | Sequence[str] | None = "5c0000000006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("hardcover", "paperback")
AFTER = ("hardcover", "paperback", "ebook")


def _format(labels: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*labels, name="book_format", native_enum=True, create_constraint=True)


def _book(labels: tuple[str, ...]) -> sa.Table:
    return sa.Table(
        "book",
        sa.MetaData(),
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("isbn", TEXT, nullable=False, unique=True),
        sa.Column("title", TEXT, nullable=False),
        sa.Column("genre_id", TEXT, sa.ForeignKey("genre.id"), nullable=False),
        sa.Column("format", _format(labels), nullable=False),
        sa.Column("author", TEXT, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
    )


def _rebuild(labels: tuple[str, ...], new_labels: tuple[str, ...]) -> None:
    with (
        alembic_seeds.table_rebuild(),
        op.batch_alter_table("book", copy_from=_book(labels)) as batch,
    ):
        batch.alter_column(
            "format", type_=_format(new_labels), existing_type=_format(labels), nullable=False
        )


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        _rebuild(BEFORE, AFTER)
        return
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE book_format ADD VALUE IF NOT EXISTS 'ebook'")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        _rebuild(AFTER, BEFORE)
        return
    op.execute("ALTER TYPE book_format RENAME TO book_format_with_ebook")
    op.execute("CREATE TYPE book_format AS ENUM ('hardcover', 'paperback')")
    op.execute(
        "ALTER TABLE book ALTER COLUMN format TYPE book_format USING format::text::book_format"
    )
    op.execute("DROP TYPE book_format_with_ebook")
