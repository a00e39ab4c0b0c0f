"""Which database a project means, engines for it, and connection failures in words.

The database comes from configuration, the same for Alembic's ``env.py`` and the ``seeds``
commands: ``DATABASE_URL`` if set, else ``sqlalchemy.url`` of ``alembic.ini``. Neither is an
error: the engine has no default database of its own.

Nothing here ever prints a URL with its password.
"""

from __future__ import annotations

import configparser
import os

from alembic.config import Config
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from alembic_seeds.errors import ConfigError, DatabaseAccessError
from alembic_seeds.migration.dialects import dialect_for
from alembic_seeds.migration.timeouts import Timeouts

URL_VARIABLE = "DATABASE_URL"
URL_OPTION = "sqlalchemy.url"
#: The backend name of the URL ``alembic init`` writes (``driver://...``) for people to replace.
PLACEHOLDER_BACKEND = "driver"


def database_url(config: Config) -> str:
    """``DATABASE_URL`` if set, else ``sqlalchemy.url`` of the configuration's main section."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if url:
        return url
    where = config.config_file_name or "the Alembic configuration"
    try:
        configured = (config.get_main_option(URL_OPTION) or "").strip()
    except configparser.InterpolationError:
        # Never repeat the value: it may hold a password.
        raise ConfigError(
            f"{where}: {URL_OPTION} cannot be read (a % must be written %%; better, keep "
            f"credentials out of the file and set {URL_VARIABLE})"
        ) from None
    if not configured:
        raise ConfigError(
            f"no database: set {URL_VARIABLE}, or {URL_OPTION} in [{config.config_ini_section}] "
            f"of {where}"
        )
    if _backend(configured) == PLACEHOLDER_BACKEND:
        raise ConfigError(
            f"no database: {URL_VARIABLE} is not set and {URL_OPTION} in {where} is still the "
            f"placeholder of alembic init ({shown_url(configured)}): set {URL_VARIABLE}, or put "
            "your database's URL there"
        )
    return configured


def _backend(url: str) -> str | None:
    try:
        return make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return None


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        # Never repeat the text: it may hold a password.
        raise DatabaseAccessError(f"{URL_VARIABLE} is not a valid SQLAlchemy URL") from None


def shown_url(url: str | URL) -> str:
    """The URL as it may be printed: without its password."""
    parsed = parse_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def database_message(error: BaseException, url: URL) -> str:
    """The first line of a driver's error, without the URL's password."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error).strip()
    line = text.splitlines()[0].strip() if text else type(error).__name__
    if url.password:
        line = line.replace(str(url.password), "***")
    return line


def connection_failure(error: BaseException, url: str | URL) -> str:
    """``cannot connect to URL: what the driver said; what to do about it``."""
    parsed = parse_url(url) if isinstance(url, str) else url
    message = database_message(error, parsed)
    hint = dialect_for(parsed.get_backend_name()).connect_hint(message)
    return f"cannot connect to {shown_url(parsed)}: {message}" + (f"; {hint}" if hint else "")


def make_engine(url: str | URL, timeouts: Timeouts | None = None) -> Engine:
    """An engine without a pool (one connection per use), set up as the dialect needs.

    With ``timeouts``, its connections start with them (an engine to migrate with).
    """
    parsed = parse_url(url) if isinstance(url, str) else url
    dialect = dialect_for(parsed.get_backend_name())
    connect_args = dialect.connect_args(timeouts) if timeouts is not None else {}
    engine = create_engine(parsed, poolclass=pool.NullPool, connect_args=connect_args)
    dialect.prepare_engine(engine)
    return engine
