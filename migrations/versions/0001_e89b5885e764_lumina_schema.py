"""Lumina schema: every table, enum type and constraint of the knowledge base.

The names are Prisma's, since the original service queries them as they are. The data
revisions (branch "seeds") fill these tables; they never change their shape.

Revision: e89b5885e764
Parent: none, this revision starts a history
Created: 2026-11-28 18:49:39
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "e89b5885e764"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("schema",)
depends_on: str | Sequence[str] | None = None

# Labels in declaration order: PostgreSQL sorts and compares enum values by that order.
ENUM_LABELS: dict[str, tuple[str, ...]] = {
    "RelationshipMetadataKey": ("REASON", "TYPE", "DESCRIPTION"),
    "QuestionType": ("selection", "value", "void"),
    "QuestionValidationStatus": ("ai_generated", "in_manual_review", "approved", "rejected"),
    "Units": ("meter", "kilogram", "second", "ampere", "kelvin", "mole", "candela"),
    "LearningResourceType": ("video",),
}

# The contract's "publishedAt": millisecond precision on PostgreSQL, as Prisma declares it (and
# on MySQL/MariaDB, whose DATETIME otherwise drops the fraction).
TIMESTAMP_3 = (
    sa.DateTime()
    .with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
    .with_variant(mysql.DATETIME(fsp=3), "mysql")
)

# MySQL/MariaDB: texts in utf8mb4 (Hebrew, symbols, emoji) compared by their bytes
# (utf8mb4_nopad_bin: the default collations ignore case and trailing spaces, which would
# merge distinct ids), ids as VARCHAR (a key cannot be on TEXT). Elsewhere TEXT as it was.
_CHARSET = "utf8mb4"
_COLLATION = "utf8mb4_nopad_bin"
ID = sa.Text().with_variant(mysql.VARCHAR(191, charset=_CHARSET, collation=_COLLATION), "mysql")
TEXT = sa.Text().with_variant(mysql.TEXT(charset=_CHARSET, collation=_COLLATION), "mysql")


def _enum(name: str) -> sa.Enum:
    # PostgreSQL gets a real enum type, created with the first table that uses it; SQLite gets
    # a CHECK constraint named after the type instead.
    return sa.Enum(*ENUM_LABELS[name], name=name, native_enum=True, create_constraint=True)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    # An id, a reference to one (``...Id``) or an end of a join table (``A``, ``B``).
    is_key = name == "id" or name.endswith("Id") or name in ("A", "B")
    return sa.Column(name, ID if is_key else TEXT, nullable=nullable)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"{table}_pkey")


def _fk(
    table: str, column: str, target: str, *, ondelete: str = "RESTRICT"
) -> sa.ForeignKeyConstraint:
    # Every reference follows a re-keyed parent; only the delete rule varies.
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=f"{table}_{column}_fkey",
        ondelete=ondelete,
        onupdate="CASCADE",
    )


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    # On PostgreSQL the unique constraints are DEFERRABLE INITIALLY IMMEDIATE, so that the data
    # engine can re-key a row inside one transaction after SET CONSTRAINTS ALL DEFERRED. SQLite
    # rejects DEFERRABLE on a UNIQUE table constraint and has no SET CONSTRAINTS, so it gets a
    # plain constraint of the same name. Deciding here, rather than relying on the SQLite
    # rendering hook in lumina.models, keeps this revision independent of the current models.
    deferrable = op.get_context().dialect.name == "postgresql"
    return sa.UniqueConstraint(
        *columns,
        name=f"{table}_{'_'.join(columns)}_key",
        deferrable=True if deferrable else None,
        initially="IMMEDIATE" if deferrable else None,
    )


def _join_table(name: str, a_target: str, b_target: str) -> None:
    """One of Prisma's implicit many-to-many tables: a link goes when either of its ends goes."""
    op.create_table(
        name,
        _text("A"),
        _text("B"),
        sa.PrimaryKeyConstraint("A", "B", name=f"{name}_AB_pkey"),
        _fk(name, "A", a_target, ondelete="CASCADE"),
        _fk(name, "B", b_target, ondelete="CASCADE"),
    )
    op.create_index(f"{name}_B_index", name, ["B"])


# Parents before children; downgrade() drops them in the reverse order.
TABLES: tuple[str, ...] = (
    "Translation",
    "University",
    "Faculty",
    "Discipline",
    "Degree",
    "Block",
    "Course",
    "BlockRelationship",
    "RelationshipMetadata",
    "Module",
    "Question",
    "QuestionPart",
    "Answer",
    "SelectAnswer",
    "NumberAnswer",
    "UnitAnswer",
    "LearningResource",
)
JOIN_TABLES: tuple[str, ...] = (
    "_CourseToDegree",
    "_CourseModules",
    "_ModuleHierarchy",
    "_ModuleToQuestion",
)


def upgrade() -> None:
    """Create the Lumina schema in an empty database."""
    op.create_table(
        "Translation",
        _text("id"),
        _text("en_text"),
        _text("he_text"),
        _pk("Translation"),
        _unique("Translation", "en_text", "he_text"),
    )
    op.create_table(
        "University",
        _text("id"),
        _text("translationId"),
        _pk("University"),
        _fk("University", "translationId", "Translation"),
    )
    op.create_table(
        "Faculty",
        _text("id"),
        _text("descriptionId"),
        _text("translationId"),
        _text("universityId"),
        _pk("Faculty"),
        _fk("Faculty", "descriptionId", "Translation"),
        _fk("Faculty", "translationId", "Translation"),
        _fk("Faculty", "universityId", "University"),
        _unique("Faculty", "translationId", "universityId"),
    )
    # From the earliest schema; the faculty is optional, so deleting one only clears it.
    op.create_table(
        "Discipline",
        _text("id"),
        _text("translationId"),
        _text("facultyId", nullable=True),
        _pk("Discipline"),
        _fk("Discipline", "translationId", "Translation"),
        _fk("Discipline", "facultyId", "Faculty", ondelete="SET NULL"),
    )
    op.create_table(
        "Degree",
        _text("id"),
        _text("translationId"),
        _text("universityId"),
        _pk("Degree"),
        _fk("Degree", "translationId", "Translation"),
        _fk("Degree", "universityId", "University"),
    )
    op.create_table("Block", _text("id"), _pk("Block"))
    op.create_table(
        "Course",
        _text("id"),
        _text("translationId"),
        _text("universityId"),
        sa.Column("publishedAt", TIMESTAMP_3, nullable=True),
        _text("blockId"),
        _pk("Course"),
        _fk("Course", "translationId", "Translation"),
        _fk("Course", "universityId", "University"),
        _fk("Course", "blockId", "Block"),
        _unique("Course", "translationId", "universityId"),
    )
    op.create_table(
        "BlockRelationship",
        _text("id"),
        _text("prerequisiteId"),
        _text("postrequisiteId"),
        _pk("BlockRelationship"),
        _fk("BlockRelationship", "prerequisiteId", "Block"),
        _fk("BlockRelationship", "postrequisiteId", "Block"),
        _unique("BlockRelationship", "prerequisiteId", "postrequisiteId"),
    )
    op.create_table(
        "RelationshipMetadata",
        _text("id"),
        sa.Column("key", _enum("RelationshipMetadataKey"), nullable=False),
        _text("value"),
        _text("blockRelationshipId"),
        _pk("RelationshipMetadata"),
        _fk("RelationshipMetadata", "blockRelationshipId", "BlockRelationship"),
        _unique("RelationshipMetadata", "key", "blockRelationshipId"),
    )
    op.create_table(
        "Module",
        _text("id"),
        _text("translationId"),
        _text("blockId"),
        _pk("Module"),
        _fk("Module", "translationId", "Translation"),
        _fk("Module", "blockId", "Block"),
    )
    op.create_table(
        "Question",
        _text("id"),
        sa.Column(
            "validationStatus",
            _enum("QuestionValidationStatus"),
            nullable=False,
            server_default="ai_generated",
        ),
        _text("translationId"),
        sa.Column("type", _enum("QuestionType"), nullable=False),
        _pk("Question"),
        _fk("Question", "translationId", "Translation"),
    )
    op.create_table(
        "QuestionPart",
        _text("id"),
        _text("questionId"),
        _text("partQuestionId"),
        sa.Column("order", sa.Integer, nullable=False),
        _pk("QuestionPart"),
        _fk("QuestionPart", "questionId", "Question"),
        _fk("QuestionPart", "partQuestionId", "Question"),
        _unique("QuestionPart", "questionId", "order"),
    )
    op.create_table(
        "Answer",
        _text("id"),
        _text("questionId"),
        _pk("Answer"),
        _fk("Answer", "questionId", "Question"),
    )
    op.create_table(
        "SelectAnswer",
        _text("id"),
        sa.Column("isCorrect", sa.Boolean, nullable=False),
        _text("translationId"),
        _text("answerId"),
        _pk("SelectAnswer"),
        _fk("SelectAnswer", "translationId", "Translation"),
        _fk("SelectAnswer", "answerId", "Answer"),
    )
    op.create_table(
        "NumberAnswer",
        _text("id"),
        sa.Column("value", sa.Double, nullable=False),
        _text("answerId"),
        _pk("NumberAnswer"),
        _fk("NumberAnswer", "answerId", "Answer"),
        _unique("NumberAnswer", "answerId"),
    )
    op.create_table(
        "UnitAnswer",
        _text("id"),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("unit", _enum("Units"), nullable=False),
        _text("answerId"),
        _pk("UnitAnswer"),
        _fk("UnitAnswer", "answerId", "Answer"),
        _unique("UnitAnswer", "answerId"),
    )
    op.create_table(
        "LearningResource",
        _text("id"),
        _text("language"),
        _text("url"),
        sa.Column("type", _enum("LearningResourceType"), nullable=False),
        _text("moduleId"),
        sa.Column("relevance", sa.Double, nullable=False, server_default=sa.text("0.0")),
        _text("suggestedBy", nullable=True),
        _pk("LearningResource"),
        _fk("LearningResource", "moduleId", "Module"),
    )
    _join_table("_CourseToDegree", "Course", "Degree")
    _join_table("_CourseModules", "Course", "Module")
    # A is the sub-module, B its parent.
    _join_table("_ModuleHierarchy", "Module", "Module")
    _join_table("_ModuleToQuestion", "Module", "Question")


def downgrade() -> None:
    """Drop the whole Lumina schema, enum types included."""
    # MySQL refuses to drop an index a foreign key needs; the table takes it along anyway.
    mysql_family = op.get_context().dialect.name in ("mysql", "mariadb")
    for name in reversed(JOIN_TABLES):
        if not mysql_family:
            op.drop_index(f"{name}_B_index", table_name=name)
        op.drop_table(name)
    for name in reversed(TABLES):
        op.drop_table(name)
    # Dropping a table leaves its enum types behind on PostgreSQL. Plain DDL rather than
    # Enum.drop() so that offline (--sql) downgrades include it too.
    if op.get_context().dialect.name == "postgresql":
        for enum_name in reversed(ENUM_LABELS):
            op.execute(sa.text(f'DROP TYPE "{enum_name}"'))
