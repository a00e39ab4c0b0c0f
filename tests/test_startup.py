"""What a command loads and takes before it does anything.

1. ``alembic current`` (what every command pays to start) imports neither the apply engine,
   the change sets, the review nor the models, nor on SQLite the PostgreSQL driver; an
   upgrade imports the apply engine, but neither the seed data's reader, review rendering,
   autogenerate nor (on SQLite) the PostgreSQL driver. Each is
   seen in the ``sys.modules`` of the Alembic command line run in a process of its own.
2. A command that only reads (``alembic current``, ``alembic history``) takes no migration
   lock and writes nothing: it succeeds at once while another session holds the lock, which
   makes a stamp give up; on an empty database it creates no version table (so a role that
   may not create tables can run it).

Both on the project's one-line env.py without metadata (``[seeds] metadata`` names it) and on
the env.py that ``seeds init`` writes.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from alembic_seeds.migration.dialects.postgresql import LOCK_KEY
from tests.deploy_helpers import (
    OWN_ENV,
    Project,
    alembic_cli,
    connect,
    copy_project,
    execute,
    process_env,
    versions,
)

#: The one-line env.py that leaves the models to ``[seeds] metadata``.
ONE_LINE_ENV = "import alembic_seeds\n\nalembic_seeds.run_migrations()\n"
ENVS = {"one-line": ONE_LINE_ENV, "seeds-init": OWN_ENV}

#: Modules that ``alembic current`` has no use for: applying, reading change sets, the seed
#: data, review, autogenerate and replay, the models (with the ORM they need).
NOT_FOR_CURRENT = (
    "alembic_seeds.apply",
    "alembic_seeds.changes",
    "alembic_seeds.dataset",
    "alembic_seeds.review",
    "alembic_seeds.commands",
    "alembic_seeds.migration.revision_run",
    "alembic_seeds.migration.replay",
    "alembic_seeds.migration.autogenerate",
    "alembic_seeds.migration.config",
    "frozen_lumina",
    "sqlalchemy.orm",
)
#: The PostgreSQL driver and its pool: nothing on SQLite needs them.
POSTGRESQL_DRIVER = ("psycopg", "psycopg_binary", "psycopg_pool")
#: What an upgrade has no use for (nor, on SQLite, for the PostgreSQL driver).
NOT_FOR_UPGRADE = (
    "alembic_seeds.dataset",
    "alembic_seeds.review",
    "alembic_seeds.commands",
    "alembic_seeds.migration.autogenerate",
)

#: The Alembic command line in this process, then the names of the modules it imported.
MODULES_AFTER = (
    "import json, sys\n"
    "from alembic.config import main\n"
    "main(argv=sys.argv[2:], prog='alembic')\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    json.dump(sorted(sys.modules), out)\n"
)


@pytest.fixture(params=sorted(ENVS))
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Project:
    """A copy of the frozen Lumina project with the env.py of the parameter."""
    copied = copy_project(tmp_path / "project")
    (copied.root / "migrations" / "env.py").write_text(ENVS[request.param], encoding="utf-8")
    return copied


def modules_after(project: Project, url: str, *args: str) -> set[str]:
    """The modules ``alembic ARGS`` imported, run in a process of its own."""
    out = project.root / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", MODULES_AFTER, str(out), *args],
        cwd=project.root,
        env=process_env(url),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names: list[str] = json.loads(out.read_text(encoding="utf-8"))
    return set(names)


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages))


def test_alembic_current_imports_no_apply_engine_driver_or_models(
    project: Project, db_url: str
) -> None:
    upgraded = alembic_cli(project, db_url, "upgrade", "heads")
    assert upgraded.returncode == 0, upgraded.explain()

    modules = modules_after(project, db_url, "current")

    unwanted = NOT_FOR_CURRENT + (POSTGRESQL_DRIVER if db_url.startswith("sqlite") else ())
    assert loaded(modules, unwanted) == []
    # The env hook did run (the test would pass vacuously on a broken env.py otherwise).
    assert "alembic_seeds.migration.environment" in modules


def test_an_upgrade_imports_the_apply_engine_but_no_review_or_autogenerate(
    project: Project, sqlite_url: str
) -> None:
    modules = modules_after(project, sqlite_url, "upgrade", "heads")

    assert loaded(modules, NOT_FOR_UPGRADE + POSTGRESQL_DRIVER) == []
    assert "alembic_seeds.apply.engine" in modules
    assert "frozen_lumina.models" in modules
    assert versions(sqlite_url)


@pytest.mark.postgresql
def test_read_only_commands_take_no_lock_while_an_upgrade_waits_for_it(
    project: Project, pg_url: str
) -> None:
    upgraded = alembic_cli(project, pg_url, "upgrade", "heads")
    assert upgraded.returncode == 0, upgraded.explain()
    with connect(pg_url) as holder:
        holder.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        holder.commit()

        # The lock is real: a migrating command gives up on it ...
        stamp = alembic_cli(project, pg_url, "-x", "lock_wait=1", "stamp", "heads")
        assert stamp.returncode != 0, stamp.explain()
        assert "another migration holds the lock" in stamp.output, stamp.output

        # ... while the commands that only read go ahead at once.
        for args in (("current",), ("history", "-r", "current:")):
            run = alembic_cli(project, pg_url, "-x", "lock_wait=1", *args)
            assert run.returncode == 0, run.explain()
            assert "(head)" in run.stdout, run.stdout

        holder.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        holder.commit()


@pytest.mark.postgresql
def test_read_only_commands_write_nothing_a_role_without_create_can_run_them(
    project: Project, pg_url: str
) -> None:
    """On an empty database, ``alembic history -r current:`` would create the version table
    (Alembic does unless told not to): as a role that may not create tables, it failed."""
    role = f"seeds_reader_{secrets.token_hex(4)}"
    execute(pg_url, f'CREATE ROLE "{role}" LOGIN')
    try:
        reader = make_url(pg_url).set(username=role).render_as_string(hide_password=False)
        for args in (("current",), ("history", "-r", "current:")):
            run = alembic_cli(project, reader, *args)
            assert run.returncode == 0, run.explain()
        assert versions(pg_url) is None
    finally:
        execute(pg_url, f'DROP ROLE "{role}"')
