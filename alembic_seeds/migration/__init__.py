"""Alembic glue: the env hook, data revision scripts, offline replay, autogenerate, log, lock."""
