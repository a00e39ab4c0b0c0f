"""Labels with unique codes, ranked items, and pairings of labels: plain unique constraints."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


metadata = sa.MetaData()

label = sa.Table(
    "label",
    metadata,
    sa.Column("id", TEXT, primary_key=True),
    sa.Column("code", TEXT, nullable=False, unique=True),
    sa.Column("title", TEXT, nullable=False),
)

#: Ranked within their label; an optional note, unique where given.
item = sa.Table(
    "item",
    metadata,
    sa.Column("id", TEXT, primary_key=True),
    sa.Column("label_id", TEXT, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("note", TEXT, unique=True),
    sa.UniqueConstraint("label_id", "position"),
)

#: Unique over two foreign keys only: no column of it can hold a temporary value.
pairing = sa.Table(
    "pairing",
    metadata,
    sa.Column("id", TEXT, primary_key=True),
    sa.Column("left_id", TEXT, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("right_id", TEXT, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False),
    sa.UniqueConstraint("left_id", "right_id"),
)

#: Tags of a pairing; the pairing's id is part of the key.
pairing_tag = sa.Table(
    "pairing_tag",
    metadata,
    sa.Column(
        "pairing_id",
        TEXT,
        sa.ForeignKey("pairing.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column("tag", TEXT, primary_key=True),
)
