"""Offline mode: ``alembic upgrade --sql`` prints SQL that, run with psql, gives a database
with exactly the content an online upgrade gives. PostgreSQL only (psql runs the SQL).

Each test has its own copy of the project and two fresh databases: one filled by running
the printed SQL with psql, one by the online upgrade.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import make_url

from tests.databases import temporary_database
from tests.scratch import (
    SEVERAL_TABLES,
    Scratch,
    counts,
    database_content,
    dump,
    edit_several_tables,
    log_entries,
    make_scratch,
    versions_applied,
)

FIRST_REVISION = "3f0c2a1b9d47"


def psql() -> str:
    found = shutil.which("psql")
    if found is None:
        pytest.skip("psql is not on PATH: the offline SQL cannot be run")
    return found


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no ``+psycopg``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run_sql(url: str, sql: str, path: Path) -> None:
    """Run ``sql`` with psql on the database at ``url``, stopping at the first error."""
    path.write_text(sql, encoding="utf-8")
    result = subprocess.run(
        [psql(), "-v", "ON_ERROR_STOP=1", "-X", "-q", "-d", libpq_url(url), "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"psql failed on {path.name}:\n{result.stderr}"


def offline_sql(scratch: Scratch, output: io.StringIO, target: str, *, down: bool = False) -> str:
    """What ``alembic upgrade|downgrade TARGET --sql`` prints."""
    output.seek(0)
    output.truncate()
    if down:
        command.downgrade(scratch.config, target, sql=True)
    else:
        command.upgrade(scratch.config, target, sql=True)
    sql = output.getvalue()
    assert sql.rstrip().endswith("COMMIT;"), sql[-200:]
    return sql


def logged(url: str) -> list[tuple[str, str, str]]:
    return [(e.revision, e.direction, e.checksum) for e in log_entries(url)]


def test_offline_sql_from_empty_equals_online_upgrade(
    tmp_path: Path,
    pg_url: str,
    postgres_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    psql()
    output = io.StringIO()
    scratch = make_scratch(tmp_path, pg_url, monkeypatch, output=output)
    sql = offline_sql(scratch, output, "heads")
    assert 'INSERT INTO "Translation"' in sql
    run_sql(pg_url, sql, tmp_path / "upgrade.sql")
    offline = database_content(pg_url)
    assert sum(len(rows) for rows in offline.values()) > 2700

    with temporary_database(postgres_server_url) as online_url:
        monkeypatch.setenv("DATABASE_URL", online_url)
        command.upgrade(scratch.config, "heads")
        online = database_content(online_url)
        online_versions = versions_applied(online_url)
        online_log = logged(online_url)

    assert dump(offline) == dump(online)
    assert dump(offline) == dump(scratch.expected())
    assert versions_applied(pg_url) == online_versions == {FIRST_REVISION}
    assert logged(pg_url) == online_log


def test_offline_sql_of_a_second_revision_equals_online(
    tmp_path: Path,
    pg_url: str,
    postgres_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    psql()
    output = io.StringIO()
    scratch = make_scratch(tmp_path, pg_url, monkeypatch, output=output)
    scratch.upgrade("heads")
    state_a = dump(scratch.content())
    edit_several_tables(scratch)
    generated = scratch.generate("several tables")
    assert counts(generated.changes) == SEVERAL_TABLES

    # Offline mode has no database to read the current revision from: a range is needed.
    sql = offline_sql(scratch, output, f"{FIRST_REVISION}:seeds@head")
    assert FIRST_REVISION in sql and generated.revision in sql
    run_sql(pg_url, sql, tmp_path / "second.sql")
    offline = database_content(pg_url)
    assert versions_applied(pg_url) == {generated.revision}

    with temporary_database(postgres_server_url) as online_url:
        monkeypatch.setenv("DATABASE_URL", online_url)
        command.upgrade(scratch.config, "heads")
        online = database_content(online_url)
        online_log = logged(online_url)
        monkeypatch.setenv("DATABASE_URL", pg_url)

    assert dump(offline) == dump(online)
    assert dump(offline) == dump(scratch.expected())
    assert logged(pg_url) == online_log

    # And the downgrade, offline too, gives back the first revision's content exactly.
    sql = offline_sql(scratch, output, f"{generated.revision}:{FIRST_REVISION}", down=True)
    run_sql(pg_url, sql, tmp_path / "second-down.sql")
    assert dump(database_content(pg_url)) == state_a
    assert versions_applied(pg_url) == {FIRST_REVISION}
    assert logged(pg_url)[-1] == (generated.revision, "downgrade", generated.changes.checksum())
