"""A degree's faculty: Degree.facultyId, which the service's later versions read.

Nullable, so the degrees already there (and every data revision written before it, which
does not name the column) stay valid: a degree not assigned to a faculty holds null.
Deleting a faculty clears it (ON DELETE SET NULL), as Prisma declares an optional relation.

Revision: 7c2e91d04a6b
Parent: 5d1c0a7e93b2
Created: 2026-12-03 10:12:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import alembic_seeds

# Ids as the first schema revision declares them (VARCHAR in bytes on MySQL/MariaDB).
ID = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)

revision: str = "7c2e91d04a6b"
down_revision: str | Sequence[str] | None = "5d1c0a7e93b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "Degree_facultyId_fkey"


def _degree(*extra: sa.Column[str] | sa.Constraint) -> sa.Table:
    """The Degree table as it stands before this revision (with ``extra``): what SQLite's
    batch mode copies, given here so that it needs no reflection (and works with --sql)."""
    return sa.Table(
        "Degree",
        sa.MetaData(),
        sa.Column("id", ID, nullable=False),
        sa.Column("translationId", ID, nullable=False),
        sa.Column("universityId", ID, nullable=False),
        *extra,
        sa.PrimaryKeyConstraint("id", name="Degree_pkey"),
        sa.ForeignKeyConstraint(
            ["translationId"],
            ["Translation.id"],
            name="Degree_translationId_fkey",
            ondelete="RESTRICT",
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["universityId"],
            ["University.id"],
            name="Degree_universityId_fkey",
            ondelete="RESTRICT",
            onupdate="CASCADE",
        ),
    )


def _foreign_key() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["facultyId"],
        ["Faculty.id"],
        name=FOREIGN_KEY,
        ondelete="SET NULL",
        onupdate="CASCADE",
    )


def upgrade() -> None:
    """Add the column and its foreign key."""
    column = sa.Column("facultyId", ID, nullable=True)
    if op.get_context().dialect.name != "sqlite":
        op.add_column("Degree", column)
        op.create_foreign_key(
            FOREIGN_KEY,
            "Degree",
            "Faculty",
            ["facultyId"],
            ["id"],
            ondelete="SET NULL",
            onupdate="CASCADE",
        )
        return
    # SQLite cannot add a named table constraint in place: the table is rebuilt, which
    # _CourseToDegree (ON DELETE CASCADE) must not notice.
    with (
        alembic_seeds.table_rebuild(),
        op.batch_alter_table("Degree", copy_from=_degree()) as batch,
    ):
        batch.add_column(column)
        batch.create_foreign_key(
            FOREIGN_KEY, "Faculty", ["facultyId"], ["id"], ondelete="SET NULL", onupdate="CASCADE"
        )


def downgrade() -> None:
    """Drop the foreign key and the column (the degrees lose their faculty)."""
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint(FOREIGN_KEY, "Degree", type_="foreignkey")
        op.drop_column("Degree", "facultyId")
        return
    with (
        alembic_seeds.table_rebuild(),
        op.batch_alter_table(
            "Degree", copy_from=_degree(sa.Column("facultyId", ID), _foreign_key())
        ) as batch,
    ):
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("facultyId")
