"""The small fixture projects under ``tests/projects/`` (one shape each), run as a user
runs them: Alembic online against a test database, or ``--sql`` run with the backend's own
command-line client (psql, sqlite3).

- ``tree``: tables that refer to themselves, texts offline SQL must keep byte for byte;
- ``counter``: integer keys a sequence or identity hands out;
- ``ranks``: unique values that rows swap, re-keyed rows, plain (not DEFERRABLE) constraints.
"""

from __future__ import annotations

import argparse
import importlib
import io
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.changes.changeset import Dataset
from alembic_seeds.migration.log import LogEntry, entries
from tests.databases import by_hand, engine_for
from tests.fixture_projects import FIXTURE_PROJECTS


@dataclass
class SmallProject:
    """Fixture project ``name`` migrating the database at ``url``."""

    name: str
    url: str
    metadata: sa.MetaData
    monkeypatch: pytest.MonkeyPatch
    output: io.StringIO = field(default_factory=io.StringIO)

    def at(self, url: str) -> SmallProject:
        """The same project migrating another database."""
        return SmallProject(self.name, url, self.metadata, self.monkeypatch)

    @property
    def root(self) -> Path:
        return FIXTURE_PROJECTS / self.name

    def config(self, drift: str | None = None) -> Config:
        self.monkeypatch.setenv("DATABASE_URL", self.url)
        config = Config(str(self.root / "alembic.ini"), output_buffer=self.output)
        config.attributes["configure_logger"] = False
        if drift is not None:
            config.cmd_opts = argparse.Namespace(x=[f"seeds_drift={drift}"])
        return config

    def upgrade(self, target: str = "head", *, drift: str | None = None) -> None:
        command.upgrade(self.config(drift), target)

    def downgrade(self, target: str, *, drift: str | None = None) -> None:
        command.downgrade(self.config(drift), target)

    def sql(self, revisions: str, *, down: bool = False) -> str:
        """What ``alembic upgrade|downgrade REVISIONS --sql`` prints."""
        self.output.seek(0)
        self.output.truncate()
        if down:
            command.downgrade(self.config(), revisions, sql=True)
        else:
            command.upgrade(self.config(), revisions, sql=True)
        return self.output.getvalue()

    def content(self) -> Dataset:
        engine = engine_for(self.url)
        try:
            with engine.connect() as connection:
                return read_dataset(connection, self.metadata, self.metadata.tables)
        finally:
            engine.dispose()

    def log(self) -> list[LogEntry]:
        engine = engine_for(self.url)
        try:
            with engine.connect() as connection:
                return entries(connection)
        finally:
            engine.dispose()

    def execute(self, sql: str, **parameters: object) -> list[sa.Row[tuple[object, ...]]]:
        """Run one statement as the application would (committed); its rows, if any."""
        with by_hand(self.url) as connection:
            result = connection.execute(sa.text(sql), parameters)
            return list(result) if result.returns_rows else []


def small_project(name: str, url: str, monkeypatch: pytest.MonkeyPatch) -> SmallProject:
    models = importlib.import_module(f"{name}_fixture.models")
    metadata: sa.MetaData = models.metadata
    return SmallProject(name, url, metadata, monkeypatch)


def run_client(url: str, sql: str, path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``sql`` with the backend's command-line client, stopping at the first error.

    sqlite3 gets foreign keys switched on first, as the project's own connections have them;
    the mariadb client reads the script in utf8mb4 and stops at the first error by itself.
    """
    if url.startswith("mysql"):
        client = _client("mariadb")
        parsed = make_url(url)
        path.write_text(sql, encoding="utf-8")
        arguments = [
            client,
            "--default-character-set=utf8mb4",
            f"--host={parsed.host or '127.0.0.1'}",
            f"--port={parsed.port or 3306}",
            f"--user={parsed.username or 'root'}",
            *([f"--password={parsed.password}"] if parsed.password else []),
            str(parsed.database),
        ]
    elif url.startswith("sqlite"):
        client = _client("sqlite3")
        database = make_url(url).database
        assert database is not None
        path.write_text("PRAGMA foreign_keys = ON;\n" + sql, encoding="utf-8")
        arguments = [client, "-bail", database]
    else:
        client = _client("psql")
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        path.write_text(sql, encoding="utf-8")
        arguments = [client, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-d", libpq]
    with path.open(encoding="utf-8") as script:
        return subprocess.run(
            arguments, stdin=script, capture_output=True, text=True, check=False, timeout=120
        )


def run_sql(url: str, sql: str, path: Path) -> None:
    result = run_client(url, sql, path)
    assert result.returncode == 0, f"{path.name} failed:\n{result.stderr}"


def _client(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not on PATH: the offline SQL cannot be run")
    return found
