"""The catalogue's models at each stage of its history (``STAGES``, oldest first).

Its history interleaves schema and data revisions: the books are seeded, then they get a
page count (a nullable column, then filled, then NOT NULL), lose their shelf codes (emptied,
then dropped), have ``author_name`` renamed to ``author``, get awards (a new table) and a new
format (an enum label). ``metadata`` is the last stage, what the schema revisions build;
a test that replays the history as a person wrote it uses the earlier ones.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


#: The stages, oldest first; each is the schema after one schema revision.
STAGES: Final = (
    "created",
    "pages",
    "pages_required",
    "shelf_dropped",
    "author_renamed",
    "awards",
    "ebook",
)

FORMATS: Final = ("hardcover", "paperback")
FORMATS_WITH_EBOOK: Final = ("hardcover", "paperback", "ebook")


def book_format(labels: tuple[str, ...]) -> sa.Enum:
    # A native type on PostgreSQL; on SQLite a CHECK constraint named after it.
    return sa.Enum(*labels, name="book_format", native_enum=True, create_constraint=True)


def metadata_at(stage: str) -> sa.MetaData:
    """The models as they are after the schema revision of ``stage``."""
    at = STAGES.index(stage)
    metadata = sa.MetaData()
    sa.Table(
        "genre",
        metadata,
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("code", TEXT, nullable=False, unique=True),
        sa.Column("name", TEXT, nullable=False),
    )
    columns: list[Any] = [
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("isbn", TEXT, nullable=False, unique=True),
        sa.Column("title", TEXT, nullable=False),
        sa.Column("genre_id", TEXT, sa.ForeignKey("genre.id"), nullable=False),
        sa.Column(
            "format",
            book_format(FORMATS_WITH_EBOOK if at >= STAGES.index("ebook") else FORMATS),
            nullable=False,
        ),
    ]
    if at < STAGES.index("shelf_dropped"):
        columns.append(sa.Column("shelf_code", TEXT, nullable=True))
    author = "author" if at >= STAGES.index("author_renamed") else "author_name"
    columns.append(sa.Column(author, TEXT, nullable=False))
    if at >= STAGES.index("pages"):
        required = at >= STAGES.index("pages_required")
        columns.append(sa.Column("pages", sa.Integer, nullable=not required))
    sa.Table("book", metadata, *columns)
    if at >= STAGES.index("awards"):
        sa.Table(
            "award",
            metadata,
            sa.Column("id", TEXT, primary_key=True),
            sa.Column("book_id", TEXT, sa.ForeignKey("book.id"), nullable=False),
            sa.Column("name", TEXT, nullable=False),
            sa.Column("year", sa.Integer, nullable=True),
        )
    return metadata


#: The models of every stage by name (``evolving_fixture.models:stages.pages`` in a
#: ``[seeds] metadata`` option).
stages: Final = SimpleNamespace(**{stage: metadata_at(stage) for stage in STAGES})
metadata: Final[sa.MetaData] = getattr(stages, STAGES[-1])
