"""the catalogue: genres, books, and the log of applied data revisions

Revision ID: 5c0000000001
Revises: (none)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from alembic_seeds import create_log_table, drop_log_table

revision: str = "5c0000000001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("schema",)
depends_on: str | Sequence[str] | None = None

FORMATS = ("hardcover", "paperback")


def upgrade() -> None:
    op.create_table(
        "genre",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "book",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("isbn", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("genre_id", sa.Text, sa.ForeignKey("genre.id"), nullable=False),
        sa.Column(
            "format",
            sa.Enum(*FORMATS, name="book_format", native_enum=True, create_constraint=True),
            nullable=False,
        ),
        sa.Column("shelf_code", sa.Text, nullable=True),
        sa.Column("author_name", sa.Text, nullable=False),
    )
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
    op.drop_table("book")
    op.drop_table("genre")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TYPE book_format")
