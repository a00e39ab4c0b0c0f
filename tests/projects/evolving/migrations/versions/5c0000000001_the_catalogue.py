"""the catalogue: genres, books, and the log of applied data revisions

Revision ID: 5c0000000001
Revises: (none)
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


revision: str = "5c0000000001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("schema",)
depends_on: str | Sequence[str] | None = None

FORMATS = ("hardcover", "paperback")


def upgrade() -> None:
    op.create_table(
        "genre",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("code", TEXT, nullable=False, unique=True),
        sa.Column("name", TEXT, nullable=False),
    )
    op.create_table(
        "book",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("isbn", TEXT, nullable=False, unique=True),
        sa.Column("title", TEXT, nullable=False),
        sa.Column("genre_id", TEXT, sa.ForeignKey("genre.id"), nullable=False),
        sa.Column(
            "format",
            sa.Enum(*FORMATS, name="book_format", native_enum=True, create_constraint=True),
            nullable=False,
        ),
        sa.Column("shelf_code", TEXT, nullable=True),
        sa.Column("author_name", TEXT, nullable=False),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("book")
    op.drop_table("genre")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TYPE book_format")
