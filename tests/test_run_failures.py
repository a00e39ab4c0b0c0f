"""How a failed ``alembic`` run reaches people: one ``FAILED:`` line naming the revision and its
direction, what happened and what it left, never a traceback; for both ways of wiring env.py
(``alembic_seeds.run_migrations`` and Alembic's usual env.py with ``SeedsEnvironment``).

Each failure is driven for real, with no tight timing: a server that is not there, a database
or role that does not exist, a statement cancelled or a connection terminated from another
session while a revision runs (found in ``pg_stat_activity`` first), a COPY cancelled while
it waits for a table lock, a revision whose change set cannot be read, a closed pipe.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import alembic
import pytest
import sqlalchemy as sa
from alembic import command

from tests.databases import engine_for
from tests.deploy_helpers import (
    FIRST_DATA_REVISION,
    SLEEP_REVISION,
    WIRINGS,
    Project,
    Run,
    add_sleeping_revision,
    alembic_cli,
    alembic_processes,
    backend_running,
    connect,
    content_hashes,
    copy_project,
    lock_holders,
    log_rows,
    process_env,
    versions,
    wait_until,
    waiting_on_lock,
)

SCHEMA_HEAD = "5d1c0a7e93b2"
#: What a revision whose statement another session cancelled fails with.
CANCELLED = (
    "the statement was cancelled by an administrator or another session (pg_cancel_backend); "
    "it was rolled back, nothing of it was written"
)


@pytest.fixture(params=WIRINGS)
def wiring(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def project_for(tmp_path: Path, wiring: str) -> Project:
    return copy_project(tmp_path / "project").wire(wiring)


def failed_lines(run: Run) -> list[str]:
    return [line for line in run.output.splitlines() if line.startswith("FAILED:")]


def assert_one_failed_line(run: Run) -> str:
    """The run failed with exactly one FAILED line and no traceback; that line."""
    assert run.returncode != 0, run.explain()
    assert "Traceback" not in run.output, run.explain()
    found = failed_lines(run)
    assert len(found) == 1, run.explain()
    return found[0]


# -- connecting ----------------------------------------------------------------------------


def server_url(
    pg_url: str,
    *,
    database: str | None = None,
    host: str | None = None,
    port: int | None = None,
    username: str | None = None,
    password: str | None = None,
) -> str:
    """``pg_url`` with some of its parts replaced."""
    url = sa.engine.make_url(pg_url)
    url = url.set(
        database=database or url.database,
        host=host or url.host,
        port=port or url.port,
        username=username or url.username,
        password=password or url.password,
    )
    return url.render_as_string(hide_password=False)


CONNECTION_CASES: list[tuple[str, Callable[[str], str], str, str]] = [
    (
        "missing-database",
        lambda url: server_url(url, database="seeds_no_such_database"),
        'database "seeds_no_such_database" does not exist',
        "create it first (createdb NAME",
    ),
    (
        "refused-port",
        lambda url: server_url(url, host="127.0.0.1", port=1),
        "Connection refused",
        "nothing listens there",
    ),
    (
        "unknown-role",
        lambda url: server_url(url, username="seeds_no_such_role", password="pw"),
        'role "seeds_no_such_role" does not exist',
        "is not a role of this server",
    ),
    (
        "host-that-does-not-resolve",
        lambda url: server_url(url, host="seeds-no-such-host.invalid"),
        "seeds-no-such-host.invalid",
        "host name does not resolve",
    ),
]


@pytest.mark.parametrize(
    ("case", "target", "reason", "hint"),
    CONNECTION_CASES,
    ids=[case[0] for case in CONNECTION_CASES],
)
def test_connection_failure_is_one_failed_line_with_the_url_without_password(
    pg_url: str,
    tmp_path: Path,
    wiring: str,
    case: str,
    target: Callable[[str], str],
    reason: str,
    hint: str,
) -> None:
    project = project_for(tmp_path, wiring)
    url = target(pg_url)
    run = alembic_cli(project, url, "upgrade", "heads")
    line = assert_one_failed_line(run)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    assert line.startswith(f"FAILED: cannot connect to {shown}: "), line
    assert reason in line, line
    assert hint in line, line
    password = sa.engine.make_url(url).password
    if password:
        assert f":{password}@" not in run.output
    assert versions(pg_url) is None  # nothing reached the database the tests own


def test_traceback_on_request(pg_url: str, tmp_path: Path, wiring: str) -> None:
    project = project_for(tmp_path, wiring)
    url = server_url(pg_url, port=1)
    run = alembic_cli(project, url, "upgrade", "heads", env={"SEEDS_TRACEBACK": "1"})
    assert run.returncode != 0
    assert "Traceback" in run.output
    assert "Connection refused" in run.output


def generic_placeholder_url() -> str:
    """The sqlalchemy.url that ``alembic init`` writes, for people to replace."""
    template = Path(alembic.__file__).parent / "templates" / "generic" / "alembic.ini.mako"
    found = re.search(r"^sqlalchemy\.url = (.+)$", template.read_text("utf-8"), re.MULTILINE)
    assert found is not None
    return found.group(1).strip()


@pytest.mark.parametrize("ini_url", [None, "placeholder"])
def test_no_database_configured_is_one_failed_line(
    tmp_path: Path, wiring: str, ini_url: str | None
) -> None:
    project = project_for(tmp_path, wiring)
    if ini_url is not None:
        text = project.ini.read_text("utf-8")
        line = f"sqlalchemy.url = {generic_placeholder_url()}\n"
        project.ini.write_text(text.replace("[alembic]\n", f"[alembic]\n{line}", 1), "utf-8")
    for args in (("upgrade", "heads"), ("upgrade", "heads", "--sql")):
        run = alembic_cli(project, "", *args)  # DATABASE_URL empty: not set
        line = assert_one_failed_line(run)
        assert line.startswith("FAILED: no database: "), line
        assert "DATABASE_URL" in line
        if ini_url is not None:
            assert "still the placeholder of alembic init" in line, line
            assert "pass@" not in run.output
    assert not list(project.root.rglob("*.db"))


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (
            ("-x", "lock_wait=soon"),
            {},
            "FAILED: -x lock_wait='soon': expected a number of seconds",
        ),
        (
            (),
            {"SEEDS_LOCK_TIMEOUT": "-1"},
            "FAILED: SEEDS_LOCK_TIMEOUT='-1': expected a number of seconds, 0 or more",
        ),
    ],
    ids=["x-option", "environment-variable"],
)
def test_bad_timeout_is_one_failed_line(
    tmp_path: Path, wiring: str, args: tuple[str, ...], env: dict[str, str], line: str
) -> None:
    project = project_for(tmp_path, wiring)
    run = alembic_cli(project, "sqlite:///unused.db", *args, "upgrade", "heads", env=env)
    assert assert_one_failed_line(run) == line
    assert not (project.root / "unused.db").exists()


# -- a revision that fails while it runs -------------------------------------------------


def signal_backend(url: str, function: str, pid: int) -> None:
    with connect(url) as connection:
        assert connection.execute(sa.text(f"SELECT {function}(:pid)"), {"pid": pid}).scalar()


def run_and_stop(
    project: Project, url: str, function: str, *args: str, query: str = "SELECT pg_sleep"
) -> Run:
    """``alembic [args] upgrade heads``; once its backend runs ``query``, ``function`` it."""
    with alembic_processes(project.root.parent / "processes") as processes:
        index = processes.start(project, url, *args, "upgrade", "heads")
        processes.wait_ready()
        processes.release()
        wait_until(lambda: backend_running(url, query) is not None, 60, what=query)
        pid = backend_running(url, query)
        assert pid is not None
        signal_backend(url, function, pid)
        return processes.wait(index, timeout=60)


@pytest.mark.parametrize("timeout_args", [(), ("-x", "statement_timeout=600")])
def test_cancelled_statement_says_who_cancelled_it(
    pg_url: str, tmp_path: Path, wiring: str, timeout_args: tuple[str, ...]
) -> None:
    project = project_for(tmp_path, wiring)
    add_sleeping_revision(project, FIRST_DATA_REVISION, 600)
    run = run_and_stop(project, pg_url, "pg_cancel_backend", *timeout_args)
    line = assert_one_failed_line(run)
    assert line == f"FAILED: revision {SLEEP_REVISION} (upgrade): {CANCELLED}", run.explain()
    assert versions(pg_url) == {FIRST_DATA_REVISION}
    assert lock_holders(pg_url) == []


def test_terminated_connection_says_so_and_where_the_database_is(
    pg_url: str, tmp_path: Path, wiring: str
) -> None:
    project = project_for(tmp_path, wiring)
    add_sleeping_revision(project, FIRST_DATA_REVISION, 600)
    run = run_and_stop(project, pg_url, "pg_terminate_backend")
    line = assert_one_failed_line(run)
    assert line.startswith(
        f"FAILED: revision {SLEEP_REVISION} (upgrade): the server ended the connection"
    ), run.explain()
    assert "pg_terminate_backend" in line
    assert line.endswith(
        "; the server rolled back what the revision had not committed; "
        f"the database is at {FIRST_DATA_REVISION}"
    ), line
    assert versions(pg_url) == {FIRST_DATA_REVISION}
    assert log_rows(pg_url) == [(FIRST_DATA_REVISION, "upgrade")]
    assert lock_holders(pg_url) == []


def test_cancelled_copy_is_one_failed_line_and_writes_nothing(
    pg_url: str, tmp_path: Path, wiring: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first data revision's COPY into the empty Translation table waits for a table lock
    another session holds; cancelled there, it fails as any cancelled statement does."""
    project = project_for(tmp_path, wiring)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    command.upgrade(project.config(), "schema@head")
    monkeypatch.delenv("DATABASE_URL")
    before = content_hashes(pg_url)
    engine = engine_for(pg_url)
    try:
        with engine.connect() as holder, alembic_processes(tmp_path / "processes") as processes:
            holder.execute(sa.text('LOCK TABLE "Translation" IN SHARE MODE'))
            index = processes.start(project, pg_url, "-x", "lock_timeout=120", "upgrade", "heads")
            processes.wait_ready()
            processes.release()

            def copy_waiting() -> bool:
                return any(query.startswith("COPY") for _, query in waiting_on_lock(pg_url))

            wait_until(copy_waiting, 60, what="the COPY waiting for the table lock")
            [(pid, _)] = waiting_on_lock(pg_url)
            signal_backend(pg_url, "pg_cancel_backend", pid)
            run = processes.wait(index, timeout=60)
            holder.rollback()
    finally:
        engine.dispose()
    line = assert_one_failed_line(run)
    assert line == f"FAILED: revision {FIRST_DATA_REVISION} (upgrade): {CANCELLED}", run.explain()
    assert versions(pg_url) == {SCHEMA_HEAD}
    assert content_hashes(pg_url) == before
    assert log_rows(pg_url) == []


def test_seeds_error_inside_a_revision_is_one_failed_line(
    pg_url: str, tmp_path: Path, wiring: str
) -> None:
    """A change set that cannot be read (its sidecar edited by hand) stops its revision."""
    project = project_for(tmp_path, wiring)
    [sidecar] = project.versions.glob("*.changes.jsonl")
    lines = sidecar.read_text("utf-8").splitlines(keepends=True)
    sidecar.write_text("".join([*lines, lines[0]]), "utf-8")
    run = alembic_cli(project, pg_url, "upgrade", "heads")
    line = assert_one_failed_line(run)
    assert re.fullmatch(
        rf"FAILED: revision {FIRST_DATA_REVISION} \(upgrade\): {re.escape(sidecar.name)}:"
        rf"{len(lines) + 1}: .* lines must be together; it was rolled back, nothing of it was "
        "written",
        line,
    ), line
    assert versions(pg_url) == {SCHEMA_HEAD}
    assert set(content_hashes(pg_url).values()) == {"0:"}, "rows were written"


# -- offline output ------------------------------------------------------------------------


def test_sql_into_a_closed_pipe_ends_quietly(tmp_path: Path, wiring: str) -> None:
    """``alembic upgrade heads --sql | head -1``: the reader goes away after one line."""
    project = project_for(tmp_path, wiring)
    with subprocess.Popen(
        [sys.executable, "-m", "alembic", "upgrade", "heads", "--sql"],
        cwd=project.root,
        env=process_env("postgresql+psycopg://nobody@127.0.0.1:1/offline"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # the SQL is far larger than the pipe holds: writes fail now
        stderr = process.stderr.read()
        returncode = process.wait(timeout=120)
    assert first.strip() == "BEGIN;"
    assert returncode == 128 + signal.SIGPIPE, stderr
    for noise in ("Traceback", "BrokenPipeError", "Broken pipe", "Exception ignored", "FAILED"):
        assert noise not in stderr, stderr


def test_sql_is_the_same_for_both_wirings(tmp_path: Path) -> None:
    """Offline, the project's own env.py and the one-liner print the same SQL."""
    url = "postgresql+psycopg://nobody@127.0.0.1:1/offline"
    printed = {}
    for wiring in WIRINGS:
        project = copy_project(tmp_path / wiring).wire(wiring)
        run = alembic_cli(project, url, "upgrade", "heads", "--sql")
        assert run.returncode == 0, run.explain()
        # The log rows take the database's clock as the SQL runs: no moment is printed.
        printed[wiring] = run.stdout
    one_liner, own = (printed[wiring] for wiring in WIRINGS)
    assert one_liner == own
    assert one_liner.count('INSERT INTO "Translation"') > 100
    assert one_liner.rstrip().endswith("COMMIT;")
