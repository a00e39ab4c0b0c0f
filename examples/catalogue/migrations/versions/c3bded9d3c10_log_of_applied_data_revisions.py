"""Log of applied data revisions

Revision ID: c3bded9d3c10
Revises: (none: the first revision)
Create Date: 2026-12-01 23:38:25 UTC

Written by `seeds init`: the log of applied data revisions (revision, checksum, when, row
counts, duration), which every data revision writes to in its own transaction.
"""

from collections.abc import Sequence

from alembic import op

from alembic_seeds import create_log_table, drop_log_table

revision: str = "c3bded9d3c10"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
