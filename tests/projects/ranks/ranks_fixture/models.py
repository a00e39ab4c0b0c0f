"""Labels with unique codes, ranked items, and pairings of labels: plain unique constraints."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

label = sa.Table(
    "label",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
)

#: Ranked within their label; an optional note, unique where given.
item = sa.Table(
    "item",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("label_id", sa.Text, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("note", sa.Text, unique=True),
    sa.UniqueConstraint("label_id", "position"),
)

#: Unique over two foreign keys only: no column of it can hold a temporary value.
pairing = sa.Table(
    "pairing",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("left_id", sa.Text, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("right_id", sa.Text, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=False),
    sa.UniqueConstraint("left_id", "right_id"),
)

#: Tags of a pairing; the pairing's id is part of the key.
pairing_tag = sa.Table(
    "pairing_tag",
    metadata,
    sa.Column(
        "pairing_id",
        sa.Text,
        sa.ForeignKey("pairing.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column("tag", sa.Text, primary_key=True),
)
