"""A ``mariadb://`` URL: the support of MySQL, under the name SQLAlchemy gives that dialect."""

from __future__ import annotations

from alembic_seeds.migration.dialects.mysql import DIALECT

__all__ = ["DIALECT"]
