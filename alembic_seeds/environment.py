"""Running Alembic with the conventions of alembic-seeds (called from ``migrations/env.py``).

- The URL comes from ``DATABASE_URL``; without it, a SQLite file next to ``alembic.ini``.
- SQLite connections enforce foreign keys, as the schema expects.
- Each revision runs in its own transaction with its version stamp.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from pathlib import Path
from typing import Any

from alembic import context
from sqlalchemy import MetaData, create_engine, event, pool
from sqlalchemy.engine import Connection, Engine

from alembic_seeds.log import log_metadata
from alembic_seeds.revision import METADATA_ATTRIBUTE

#: File name of the embedded default database, in the folder of ``alembic.ini``.
DEFAULT_SQLITE_FILE = "lumina.db"


def database_url(config_file: str | None) -> str:
    """``DATABASE_URL`` if set, else the embedded SQLite file beside ``config_file``."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    folder = Path(config_file).resolve().parent if config_file else Path.cwd()
    return f"sqlite:///{folder / DEFAULT_SQLITE_FILE}"


def make_engine(url: str) -> Engine:
    engine = create_engine(url, poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def run(target_metadata: MetaData) -> None:
    """Run the migrations Alembic asked for, online or offline (``--sql``)."""
    config_file = context.config.config_file_name
    if config_file is not None and context.config.attributes.get("configure_logger", True):
        fileConfig(config_file, disable_existing_loggers=False)
    url = database_url(config_file)
    context.config.attributes[METADATA_ATTRIBUTE] = target_metadata
    options: dict[str, Any] = {
        # The log of applied data revisions is part of the schema Alembic manages.
        "target_metadata": [target_metadata, log_metadata],
        "transaction_per_migration": True,
        "compare_type": True,
        "render_as_batch": url.startswith("sqlite"),
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run_online(connection, options)
    finally:
        engine.dispose()


def _run_online(connection: Connection, options: dict[str, Any]) -> None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
