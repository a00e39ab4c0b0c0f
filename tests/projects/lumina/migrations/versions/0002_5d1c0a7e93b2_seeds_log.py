"""The log of applied data revisions (revision, checksum, when, counts, duration).

Revision ID: 5d1c0a7e93b2
Revises: e89b5885e764
Create Date: 2026-11-28 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from alembic_seeds import create_log_table, drop_log_table

revision: str = "5d1c0a7e93b2"
down_revision: str | Sequence[str] | None = "e89b5885e764"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
