"""The catalogue's tables: the reference data its application reads."""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# On MySQL and MariaDB, texts in utf8mb4 compared by their bytes (the default collations
# ignore case and trailing spaces); other databases ignore these options.
BYTES = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_nopad_bin"}


class Base(DeclarativeBase):
    __table_args__ = BYTES


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Categories within categories: the parent is a row of the same table.
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"))


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    price_cents: Mapped[int]
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"))


# The tags of each product.
product_tag = sa.Table(
    "product_tag",
    Base.metadata,
    sa.Column("product_id", sa.ForeignKey("product.id"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tag.id"), primary_key=True),
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_nopad_bin",
)
