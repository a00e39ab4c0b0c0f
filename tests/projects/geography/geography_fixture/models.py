"""The geography's tables.

- ``country``: integer ids, named by ISO code (a natural key).
- ``subdivision``: named by ISO 3166-2 code; a subdivision may lie within another one
  (``parent_id``, a reference to the same table).
- ``tag`` and ``subdivision_tag``: an association table between subdivisions and tags.
- ``city``: no natural key (names repeat), so references to a city are written by id.
- ``airport``: a text key (its IATA code) and no other key.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# MySQL/MariaDB: VARCHAR (a key cannot be on TEXT), in utf8mb4 and compared by bytes.
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)


def string(length: int) -> sa.types.TypeEngine[str]:
    """``String(length)``, compared by bytes on MySQL/MariaDB."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
    )


metadata = sa.MetaData()

country = sa.Table(
    "country",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("iso_code", string(2), nullable=False, unique=True),
    sa.Column("name", TEXT, nullable=False),
)

subdivision = sa.Table(
    "subdivision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", string(16), nullable=False, unique=True),
    sa.Column("name", TEXT, nullable=False),
    sa.Column("country_id", sa.Integer, sa.ForeignKey("country.id"), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("subdivision.id"), nullable=True),
)

tag = sa.Table(
    "tag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", string(64), nullable=False, unique=True),
)

subdivision_tag = sa.Table(
    "subdivision_tag",
    metadata,
    sa.Column("subdivision_id", sa.Integer, sa.ForeignKey("subdivision.id"), primary_key=True),
    sa.Column("tag_id", sa.Integer, sa.ForeignKey("tag.id"), primary_key=True),
)

city = sa.Table(
    "city",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", TEXT, nullable=False),
    sa.Column("subdivision_id", sa.Integer, sa.ForeignKey("subdivision.id"), nullable=False),
    sa.Column("population", sa.Integer, nullable=True),
)

airport = sa.Table(
    "airport",
    metadata,
    sa.Column("iata", string(3), primary_key=True),
    sa.Column("name", TEXT, nullable=False),
    sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id"), nullable=False),
)
