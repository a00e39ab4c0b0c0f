"""BooleanAnswer: the answer of a true-or-false question, read by the service's later versions.

One per answer (a unique index, named as the service's schema names it); an answer cannot
be deleted while its boolean answer is there (ON DELETE RESTRICT).

Revision: b8f3a5c2d917
Parent: 7c2e91d04a6b
Created: 2026-12-03 10:14:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Ids as the first schema revision declares them (VARCHAR in bytes on MySQL/MariaDB).
ID = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)

revision: str = "b8f3a5c2d917"
down_revision: str | Sequence[str] | None = "7c2e91d04a6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table and its unique index."""
    op.create_table(
        "BooleanAnswer",
        sa.Column("id", ID, nullable=False),
        sa.Column("value", sa.Boolean, nullable=False),
        sa.Column("answerId", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name="BooleanAnswer_pkey"),
        sa.ForeignKeyConstraint(
            ["answerId"],
            ["Answer.id"],
            name="BooleanAnswer_answerId_fkey",
            ondelete="RESTRICT",
            onupdate="CASCADE",
        ),
    )
    op.create_index("BooleanAnswer_answerId_key", "BooleanAnswer", ["answerId"], unique=True)


def downgrade() -> None:
    """Drop the table (its rows go with it: the data revisions that wrote them are
    downgraded first, since they depend on this revision)."""
    # MySQL refuses to drop an index a foreign key needs; the table takes it along anyway.
    if op.get_context().dialect.name not in ("mysql", "mariadb"):
        op.drop_index("BooleanAnswer_answerId_key", table_name="BooleanAnswer")
    op.drop_table("BooleanAnswer")
