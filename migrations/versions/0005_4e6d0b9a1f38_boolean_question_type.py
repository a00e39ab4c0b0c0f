"""QuestionType gains the label "boolean", between "value" and "void", as the service's
later versions declare it.

PostgreSQL: ``ALTER TYPE ... ADD VALUE``. Before PostgreSQL 12 it cannot run inside a
transaction block, and from 12 on a label added in a transaction cannot be used until that
transaction commits: so it runs on its own, committed at once (``autocommit_block``, which
with --sql writes COMMIT and BEGIN around it), and the data revisions that use the label come
after it, each in its own transaction. ``IF NOT EXISTS``: if the run stops between that
commit and the version stamp, running it again goes through.

SQLite: the CHECK constraint named "QuestionType" that stands in for the enum is rebuilt
with the new label, the way Alembic's batch mode changes a table there (a copy of the table,
filled, then renamed), foreign keys off meanwhile.

Revision: 4e6d0b9a1f38
Parent: b8f3a5c2d917
Created: 2026-12-03 10:16:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError
from sqlalchemy.dialects import mysql

import alembic_seeds

# Ids as the first schema revision declares them (VARCHAR in bytes on MySQL/MariaDB).
ID = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)

revision: str = "4e6d0b9a1f38"
down_revision: str | Sequence[str] | None = "b8f3a5c2d917"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE: tuple[str, ...] = ("selection", "value", "void")
AFTER: tuple[str, ...] = ("selection", "value", "boolean", "void")
STATUS: tuple[str, ...] = ("ai_generated", "in_manual_review", "approved", "rejected")


def upgrade() -> None:
    """Add the label."""
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute(
                "ALTER TYPE \"QuestionType\" ADD VALUE IF NOT EXISTS 'boolean' BEFORE 'void'"
            )
        return
    _rebuild_question(BEFORE, AFTER)


def downgrade() -> None:
    """Remove the label again: refused while a question still has it (the data revisions
    that wrote such questions depend on this revision, so they are downgraded first)."""
    if op.get_context().dialect.name != "postgresql":
        _refuse_while_in_use()
        _rebuild_question(AFTER, BEFORE)
        return
    # PostgreSQL cannot drop a label: the type is made anew without it.
    op.execute(
        """DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM "Question" WHERE "type" = 'boolean') THEN
        RAISE EXCEPTION 'questions of type boolean remain: the QuestionType label cannot go';
    END IF;
END $$"""
    )
    op.execute('ALTER TYPE "QuestionType" RENAME TO "QuestionType_with_boolean"')
    op.execute("CREATE TYPE \"QuestionType\" AS ENUM ('selection', 'value', 'void')")
    op.execute(
        'ALTER TABLE "Question" ALTER COLUMN "type" TYPE "QuestionType"'
        ' USING "type"::text::"QuestionType"'
    )
    op.execute('DROP TYPE "QuestionType_with_boolean"')


def _refuse_while_in_use() -> None:
    """MySQL/MariaDB: say why, before MODIFY COLUMN fails on a row with the label ("data
    truncated"). SQLite's rebuilt CHECK names the type itself; offline, the statement fails
    as it is."""
    context = op.get_context()
    if context.as_sql or context.dialect.name not in ("mysql", "mariadb"):
        return
    question = sa.table("Question", sa.column("type", sa.Text))
    in_use = sa.select(sa.literal(1)).select_from(question).where(question.c.type == "boolean")
    if op.get_bind().execute(in_use.limit(1)).first() is not None:
        raise CommandError("questions of type boolean remain: the QuestionType label cannot go")


def _enum(name: str, labels: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*labels, name=name, native_enum=True, create_constraint=True)


def _question(labels: tuple[str, ...]) -> sa.Table:
    """The Question table with ``labels`` for its type: what batch mode copies, given here
    so that it needs no reflection (and works with --sql)."""
    return sa.Table(
        "Question",
        sa.MetaData(),
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "validationStatus",
            _enum("QuestionValidationStatus", STATUS),
            nullable=False,
            server_default="ai_generated",
        ),
        sa.Column("translationId", ID, nullable=False),
        sa.Column("type", _enum("QuestionType", labels), nullable=False),
        sa.PrimaryKeyConstraint("id", name="Question_pkey"),
        sa.ForeignKeyConstraint(
            ["translationId"],
            ["Translation.id"],
            name="Question_translationId_fkey",
            ondelete="RESTRICT",
            onupdate="CASCADE",
        ),
    )


def _rebuild_question(labels: tuple[str, ...], new_labels: tuple[str, ...]) -> None:
    # Answers, parts and _ModuleToQuestion (ON DELETE CASCADE) refer to Question.
    with (
        alembic_seeds.table_rebuild(),
        op.batch_alter_table("Question", copy_from=_question(labels)) as batch,
    ):
        batch.alter_column(
            "type",
            type_=_enum("QuestionType", new_labels),
            existing_type=_enum("QuestionType", labels),
            existing_nullable=False,
        )
