"""Tools for the deploy-safety tests: scratch projects, real ``alembic`` processes, and
read-only looks at a PostgreSQL database (version table, revision log, content hashes,
backends and advisory locks left behind).

A deploy runs ``python -m alembic ...`` in a fresh process; so does :func:`run_alembic`.
Where several processes must start at the same instant (a race) or at a measured instant (a
kill, a timeout), :class:`AlembicProcesses` forks them from the test process, holds them at a
barrier and releases them together: the race is between database sessions, not between
Python start-ups.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import alembic.config
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from frozen_lumina.seeds import SPEC
from sqlalchemy.engine import Connection, make_url

from alembic_seeds.migration.dialects.mysql import lock_name
from alembic_seeds.migration.dialects.postgresql import APPLICATION_NAME, LOCK_KEY
from alembic_seeds.migration.scaffold import wired_env
from tests.databases import engine_for
from tests.fixture_projects import LUMINA, LUMINA_FIRST_REVISION
from tests.fixture_projects import copy_project as copy_fixture_project

#: Every table the seed data fills.
SEEDED: list[str] = list(SPEC.tables())
#: The project's first data revision (imports the whole reference data).
FIRST_DATA_REVISION = LUMINA_FIRST_REVISION

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")

#: The two ways of wiring env.py: the project's one-liner (``alembic_seeds.run_migrations``),
#: and Alembic's usual env.py with the ``SeedsEnvironment`` pieces added (what ``seeds init``
#: writes). Deploy guarantees hold for both.
WIRINGS = ("run_migrations", "own-env")
OWN_ENV = wired_env("frozen_lumina.models:metadata")


# -- scratch projects ----------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    """A copy of the project's Alembic setup in a folder of its own."""

    root: Path

    @property
    def ini(self) -> Path:
        return self.root / "alembic.ini"

    @property
    def versions(self) -> Path:
        return self.root / "data_migrations" / "versions"

    @property
    def seeddata(self) -> Path:
        return self.root / "seeddata"

    def config(self) -> Config:
        config = Config(str(self.ini))
        config.attributes["configure_logger"] = False
        return config

    def scripts(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def heads(self) -> set[str]:
        """Every head of the history (``alembic heads``)."""
        return set(self.scripts().get_heads())

    def reached(self, stored: set[str] | None) -> set[str]:
        """Every revision a database whose version table holds ``stored`` has applied."""
        if not stored:
            return set()
        return {s.revision for s in self.scripts().iterate_revisions(tuple(stored), "base")}

    def stored_heads(self) -> set[str]:
        """What the version table holds at every head: the heads that no other head
        depends on (Alembic leaves out a head another one reaches through depends_on)."""
        heads = self.heads()
        return {
            head for head in heads if not any(head in self.reached({o}) for o in heads - {head})
        }

    def data_revisions(self) -> list[str]:
        """Every revision of the data folder, oldest first (a linear history)."""
        scripts = self.scripts()
        ordered = [s.revision for s in reversed(list(scripts.walk_revisions("base", "heads")))]
        own = {
            s.revision
            for s in scripts.walk_revisions("base", "heads")
            if Path(s.path).parent == self.versions
        }
        return [revision for revision in ordered if revision in own]

    def all_revisions(self) -> list[str]:
        """Every revision, oldest first (schema and data; a linear history)."""
        scripts = self.scripts()
        return [s.revision for s in reversed(list(scripts.walk_revisions("base", "heads")))]

    def add_revision(self, name: str, text: str) -> Path:
        path = self.versions / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def write_env(self, text: str) -> None:
        """Replace ``migrations/env.py`` of this copy (never the project's own)."""
        (self.root / "migrations" / "env.py").write_text(
            textwrap.dedent(text).lstrip(), encoding="utf-8"
        )

    def wire(self, wiring: str) -> Project:
        """Give this copy the env.py of ``wiring`` (one of ``WIRINGS``)."""
        if wiring == "own-env":
            (self.root / "migrations" / "env.py").write_text(OWN_ENV, encoding="utf-8")
        else:
            assert wiring == "run_migrations", wiring
        return self

    def files(self) -> set[str]:
        """Every file under the data revisions folder (to see what a command wrote)."""
        return {str(p.relative_to(self.versions)) for p in self.versions.rglob("*") if p.is_file()}


def copy_project(
    root: Path, *, data_revisions: bool = True, seeddata: bool = True, source: Path = LUMINA
) -> Project:
    """Copy ``alembic.ini`` and ``migrations/`` (and, if asked, the data revisions and
    ``seeddata/``) of ``source`` into ``root``."""
    copy_fixture_project(root, source, data_revisions=data_revisions, seeddata=seeddata)
    return Project(root)


def clone(project: Project, root: Path) -> Project:
    """A full copy of a scratch project (revisions made for it included)."""
    shutil.copytree(project.root, root, ignore=_IGNORED)
    return Project(root)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, objects: Iterable[Mapping[str, Any]]) -> None:
    path.write_text(
        "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects), encoding="utf-8"
    )


# -- running alembic as a deploy does ------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished ``alembic`` process."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    #: Wall time from start (or release, for a warm process) to exit.
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def explain(self) -> str:
        tail = "\n".join(self.output.strip().splitlines()[-12:])
        return f"alembic {' '.join(self.args)} exited {self.returncode}:\n{tail}"


def process_env(url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDS_")}
    env["DATABASE_URL"] = url
    env.update(extra or {})
    return env


def alembic_cli(
    project: Project,
    url: str,
    *args: str,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> Run:
    """``python -m alembic ARGS`` in the project's folder with ``DATABASE_URL=url``."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=project.root,
        env=process_env(url, env),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    return Run(args, done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


@dataclass
class _Forked:
    args: tuple[str, ...]
    pid: int
    go: int  # write end of the pipe the child waits on
    ready: int  # read end of the pipe the child says it is ready on
    out: Path
    err: Path
    released: float = 0.0
    ended: float | None = None
    returncode: int | None = None


@dataclass
class AlembicProcesses:
    """``alembic`` processes that start together: each is forked from the test process
    (which has imported everything already), waits at a barrier, and on release runs the
    Alembic command line in its own process, with its own database session, exactly as
    ``python -m alembic ARGS`` does, its output going to files.

    So a race is between database sessions, not between Python start-ups, and a kill lands
    at a measured moment of the run itself.
    """

    folder: Path
    runs: list[_Forked] = field(default_factory=list)

    def start(
        self, project: Project, url: str, *args: str, env: Mapping[str, str] | None = None
    ) -> int:
        """Fork one process (it waits for :meth:`release`); its index."""
        self.folder.mkdir(parents=True, exist_ok=True)
        index = len(self.runs)
        out = self.folder / f"{index}.stdout"
        err = self.folder / f"{index}.stderr"
        go_read, go_write = os.pipe()
        ready_read, ready_write = os.pipe()
        environment = process_env(url, env)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(go_write)
            os.close(ready_read)
            _child(project.root, environment, args, out, err, go_read, ready_write)
        os.close(go_read)
        os.close(ready_write)
        self.runs.append(_Forked(tuple(args), pid, go_write, ready_read, out, err))
        return index

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until every process sits at the barrier."""
        for run in self.runs:
            if run.ready < 0:
                continue
            os.set_blocking(run.ready, True)
            if os.read(run.ready, 1) != b"r":
                raise RuntimeError(f"alembic {' '.join(run.args)} died before the barrier")
            os.close(run.ready)
            run.ready = -1

    def release(self, indexes: Sequence[int] | None = None) -> float:
        """Let the processes run (all, or those of ``indexes``); the moment, monotonic."""
        chosen = [self.runs[i] for i in indexes] if indexes is not None else self.runs
        moment = time.monotonic()
        for run in chosen:
            run.released = time.monotonic()
            os.write(run.go, b"g")
            os.close(run.go)
            run.go = -1
        return moment

    def poll(self, index: int | None = None) -> bool:
        """Note every process that has ended; whether ``index`` (or all) has."""
        for run in self.runs:
            if run.returncode is None:
                pid, status = os.waitpid(run.pid, os.WNOHANG)
                if pid:
                    run.ended = time.monotonic()
                    run.returncode = os.waitstatus_to_exitcode(status)
        if index is None:
            return all(run.returncode is not None for run in self.runs)
        return self.runs[index].returncode is not None

    def wait(self, index: int, timeout: float = 120) -> Run:
        deadline = time.monotonic() + timeout
        while not self.poll(index):
            if time.monotonic() > deadline:
                self.kill(index)
                raise TimeoutError(f"alembic {' '.join(self.runs[index].args)} ran > {timeout} s")
            time.sleep(0.005)
        return self._finished(self.runs[index])

    def wait_all(self, timeout: float = 120) -> list[Run]:
        deadline = time.monotonic() + timeout
        while not self.poll():
            if time.monotonic() > deadline:
                raise TimeoutError(f"alembic processes still running after {timeout} s")
            time.sleep(0.005)
        return [self._finished(run) for run in self.runs]

    def kill(self, index: int) -> float:
        """SIGKILL process ``index``; the moment, monotonic."""
        run = self.runs[index]
        moment = time.monotonic()
        if run.returncode is None:
            os.kill(run.pid, signal.SIGKILL)
            _, status = os.waitpid(run.pid, 0)
            run.ended = time.monotonic()
            run.returncode = os.waitstatus_to_exitcode(status)
        return moment

    def close(self) -> None:
        for index, run in enumerate(self.runs):
            for fd in (run.go, run.ready):
                if fd >= 0:
                    os.close(fd)
            run.go = run.ready = -1
            self.kill(index)

    def _finished(self, run: _Forked) -> Run:
        assert run.ended is not None and run.returncode is not None
        return Run(
            run.args,
            run.returncode,
            run.out.read_text(encoding="utf-8", errors="replace"),
            run.err.read_text(encoding="utf-8", errors="replace"),
            run.ended - run.released if run.released else float("nan"),
        )


def _child(
    root: Path,
    environment: Mapping[str, str],
    args: Sequence[str],
    out: Path,
    err: Path,
    go: int,
    ready: int,
) -> NoReturn:  # pragma: no cover - runs in the forked process
    code = 1
    try:
        for fd, path in ((1, out), (2, err)):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
        os.chdir(root)
        os.environ.clear()
        os.environ.update(environment)
        os.write(ready, b"r")
        os.close(ready)
        if os.read(go, 1) != b"g":
            os._exit(97)
        try:
            alembic.config.main(argv=list(args), prog="alembic")
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code & 0xFF)


@contextmanager
def alembic_processes(folder: Path) -> Iterator[AlembicProcesses]:
    processes = AlembicProcesses(folder)
    try:
        yield processes
    finally:
        processes.close()


# -- looking at a database (PostgreSQL, and MySQL where a helper says so) ----------------


def is_mysql(url: str) -> bool:
    return make_url(url).get_backend_name() in ("mysql", "mariadb")


@contextmanager
def connect(url: str) -> Iterator[Connection]:
    """A plain connection (not named ``alembic-seeds``), closed afterwards."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def database_name(url: str) -> str:
    name = make_url(url).database
    assert name, url
    return name


def versions(url: str) -> set[str] | None:
    """The revisions in Alembic's version table; None when there is no such table."""
    with connect(url) as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return {
            row[0] for row in connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        }


def log_rows(url: str) -> list[tuple[str, str]]:
    """(revision, direction) of every entry of the revision log, oldest first."""
    with connect(url) as connection:
        if not sa.inspect(connection).has_table("alembic_seeds_log"):
            return []
        rows = connection.execute(
            sa.text("SELECT revision, direction FROM alembic_seeds_log ORDER BY id")
        )
        return [(row[0], row[1]) for row in rows]


def row_counts(url: str, tables: Iterable[str] = SEEDED) -> dict[str, int | None]:
    with connect(url) as connection:
        existing = set(sa.inspect(connection).get_table_names())
        quote = connection.dialect.identifier_preparer.quote
        return {
            table: (
                connection.execute(sa.text(f"SELECT count(*) FROM {quote(table)}")).scalar_one()
                if table in existing
                else None
            )
            for table in tables
        }


def content_hashes(url: str, tables: Iterable[str] = SEEDED) -> dict[str, str | None]:
    """Per table, a hash of its rows computed by the server (None: no such table).

    Equal content gives equal hashes whatever the physical order of the rows.
    """
    with connect(url) as connection:
        existing = set(sa.inspect(connection).get_table_names())
        quote = connection.dialect.identifier_preparer.quote
        result: dict[str, str | None] = {}
        for table in tables:
            if table not in existing:
                result[table] = None
                continue
            if is_mysql(url):
                # No md5 of a row there: the rows' texts, sorted, hashed here.
                rows = connection.execute(sa.text(f"SELECT * FROM {quote(table)}")).all()
                lines = sorted(repr(tuple(row)) for row in rows)
                digest = hashlib.md5("".join(lines).encode(), usedforsecurity=False)
                result[table] = f"{len(lines)}:{digest.hexdigest() if lines else ''}"
                continue
            result[table] = connection.execute(
                sa.text(
                    "SELECT count(*) || ':' || coalesce(md5(string_agg(h, '' ORDER BY h)), '')"
                    f" FROM (SELECT md5(t::text) AS h FROM {quote(table)} t) s"
                )
            ).scalar_one()
        return result


def alembic_backends(url: str) -> list[int]:
    """Pids of server processes of ``alembic-seeds`` runs on the database of ``url`` (on
    MySQL: every other connection to it, the tests' own being closed)."""
    with connect(url) as connection:
        if is_mysql(url):
            rows = connection.execute(
                sa.text(
                    "SELECT ID FROM information_schema.PROCESSLIST"
                    " WHERE DB = :db AND ID <> CONNECTION_ID()"
                ),
                {"db": database_name(url)},
            )
            return [row[0] for row in rows]
        rows = connection.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :db AND application_name = :app"
                " AND pid <> pg_backend_pid()"
            ),
            {"db": database_name(url), "app": APPLICATION_NAME},
        )
        return [row[0] for row in rows]


def lock_holders(url: str) -> list[int]:
    """Pids holding the migration advisory lock on the database of ``url`` (on MySQL: the
    connection holding its named lock)."""
    with connect(url) as connection:
        if is_mysql(url):
            holder = connection.execute(
                sa.text("SELECT IS_USED_LOCK(:name)"), {"name": lock_name(database_name(url))}
            ).scalar()
            return [] if holder is None else [int(holder)]
        rows = connection.execute(
            sa.text(
                "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = :db"
                " AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1"
            ),
            {"db": database_name(url), "key": LOCK_KEY},
        )
        return [row[0] for row in rows]


def waiting_on_lock(url: str) -> list[tuple[int, str]]:
    """(pid, query) of ``alembic-seeds`` backends waiting for a heavyweight lock."""
    with connect(url) as connection:
        rows = connection.execute(
            sa.text(
                "SELECT pid, query FROM pg_stat_activity WHERE datname = :db"
                " AND application_name = :app AND wait_event_type = 'Lock'"
            ),
            {"db": database_name(url), "app": APPLICATION_NAME},
        )
        return [(row[0], row[1]) for row in rows]


#: The revision ``add_sleeping_revision`` writes.
SLEEP_REVISION = "5ee9000000a1"


def add_sleeping_revision(project: Project, down_revision: str, seconds: float) -> None:
    """A revision on top of ``down_revision`` that sleeps ``seconds`` in the database."""
    project.add_revision(
        f"{SLEEP_REVISION}_sleeps.py",
        f'''
        """Sleeps in the database for a while (test only)."""
        from alembic import op

        revision = "{SLEEP_REVISION}"
        down_revision = "{down_revision}"
        branch_labels = None
        depends_on = None


        def upgrade() -> None:
            op.execute("SELECT pg_sleep({seconds})")


        def downgrade() -> None:
            pass
        ''',
    )


def backend_running(url: str, query_start: str = "SELECT pg_sleep") -> int | None:
    """The pid of a backend of ``url`` (not this one) running a query that starts so."""
    with connect(url) as connection:
        pid = connection.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :db AND state = 'active'"
                " AND query LIKE :query AND pid <> pg_backend_pid()"
            ),
            {"db": database_name(url), "query": f"{query_start}%"},
        ).scalar()
        return int(pid) if pid is not None else None


def wait_until(
    condition: Callable[[], object], timeout: float, interval: float = 0.02, what: str = "condition"
) -> float:
    """Poll ``condition()`` until true; the seconds it took. TimeoutError after ``timeout``."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(interval)


def execute(url: str, *statements: str) -> None:
    """Run statements by hand, in one transaction."""
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()
