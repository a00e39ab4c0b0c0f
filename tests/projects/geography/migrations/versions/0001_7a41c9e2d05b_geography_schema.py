"""The geography's tables and the log of applied data revisions.

Revision: 7a41c9e2d05b
Parent: none, this revision starts a history
Created: 2026-12-01 10:00:00
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


def string(length: int) -> sa.types.TypeEngine[str]:
    """``String(length)``, compared by bytes on MySQL/MariaDB."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
    )


revision: str = "7a41c9e2d05b"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("schema",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create every table, parents first."""
    op.create_table(
        "country",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("iso_code", string(2), nullable=False, unique=True),
        sa.Column("name", TEXT, nullable=False),
    )
    op.create_table(
        "subdivision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", string(16), nullable=False, unique=True),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("country_id", sa.Integer, sa.ForeignKey("country.id"), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("subdivision.id"), nullable=True),
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", string(64), nullable=False, unique=True),
    )
    op.create_table(
        "subdivision_tag",
        sa.Column("subdivision_id", sa.Integer, sa.ForeignKey("subdivision.id"), primary_key=True),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("tag.id"), primary_key=True),
    )
    op.create_table(
        "city",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("subdivision_id", sa.Integer, sa.ForeignKey("subdivision.id"), nullable=False),
        sa.Column("population", sa.Integer, nullable=True),
    )
    op.create_table(
        "airport",
        sa.Column("iata", string(3), primary_key=True),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id"), nullable=False),
    )
    create_log_table(op)


def downgrade() -> None:
    """Drop every table, children first."""
    drop_log_table(op)
    for table in ("airport", "city", "subdivision_tag", "tag", "subdivision", "country"):
        op.drop_table(table)
