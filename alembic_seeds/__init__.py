"""alembic-seeds: reference data as Alembic data migrations."""

__version__ = "0.1.0"
