"""``seeds init`` in an existing Alembic project: what ``alembic init`` made (its generic
env.py is wired up), one whose env.py was changed (left alone, the lines to add printed), and
one already set up (nothing changes). Then the whole walk on SQLite and PostgreSQL: a models
module, a schema revision, ``seeds init``, seed data and a spec, ``seeds revision``,
``alembic upgrade heads``, ``alembic check`` and ``--sql``.

The projects are made in ``tmp_path`` by Alembic's own ``alembic init``; their packages
(``initdemo_models``, ``initdemo_seeds``) are written by the tests.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.config import Config
from click.testing import CliRunner, Result

from alembic_seeds.cli import main
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.scaffold import wired_env
from tests.databases import engine_for, run_alembic
from tests.fixture_projects import copy_project

METADATA = "initdemo_models:metadata"
SCHEMA_REVISION = "c0100000aaaa"

MODELS = '''
"""The models of a small project that is not Lumina (test only)."""
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# On MySQL: VARCHAR in utf8mb4 compared by bytes (a key cannot be on TEXT there).
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)

metadata = sa.MetaData()
colour = sa.Table(
    "colour",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", TEXT, nullable=False, unique=True),
)
shade = sa.Table(
    "shade",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("colour_id", sa.Integer, sa.ForeignKey("colour.id"), nullable=False),
    sa.Column("name", TEXT, nullable=False),
)
'''

SCHEMA = f'''
"""Colours and shades.

Revision ID: {SCHEMA_REVISION}
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# On MySQL: VARCHAR in utf8mb4 compared by bytes (a key cannot be on TEXT there).
TEXT = sa.Text().with_variant(
    mysql.VARCHAR(191, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql"
)

revision = "{SCHEMA_REVISION}"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "colour",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", TEXT, nullable=False, unique=True),
    )
    op.create_table(
        "shade",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("colour_id", sa.Integer, sa.ForeignKey("colour.id"), nullable=False),
        sa.Column("name", TEXT, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shade")
    op.drop_table("colour")
'''

SPEC = """
from alembic_seeds import FileSpec, Ref, RowSpec, SeedSpec, Value

SPEC = SeedSpec(
    files=(
        FileSpec(
            "colours.jsonl",
            RowSpec("colour", {"id": Value("id"), "name": Value("name")}, label="{name}",
                    unique_label=True),
        ),
        FileSpec(
            "shades.jsonl",
            RowSpec("shade", {"id": Value("id"), "colour": Ref("colour_id", "colour"),
                              "name": Value("name")}, label="{name}"),
        ),
    )
)
"""

COLOURS = [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}]
SHADES = [
    {"id": 10, "colour": "red", "name": "crimson"},
    {"id": 11, "colour": "red", "name": "scarlet"},
    {"id": 20, "colour": "green", "name": "olive"},
]


def alembic(root: Path, *args: str, url: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m alembic ARGS`` in ``root``; DATABASE_URL ``url`` (empty: none)."""
    return run_alembic(args, url, cwd=root, timeout=120)


def alembic_init(root: Path) -> Path:
    """``alembic init migrations`` in ``root``, and the project's models module."""
    root.mkdir(parents=True, exist_ok=True)
    done = alembic(root, "init", "migrations")
    assert done.returncode == 0, done.stderr
    write(root / "initdemo_models.py", MODELS)
    return root


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    # The commands run in this process: let its importer see a module written just now.
    importlib.invalidate_caches()


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def seeds(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["-c", str(root / "alembic.ini"), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".db"
    }


@pytest.fixture(scope="module")
def initialized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``alembic init migrations`` made (once: each test works on a copy)."""
    return alembic_init(tmp_path_factory.mktemp("alembic-init") / "project")


@pytest.fixture
def project(initialized: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What ``alembic init migrations`` made, a models module and one schema revision."""
    root = tmp_path / "project"
    shutil.copytree(initialized, root, ignore=shutil.ignore_patterns("__pycache__"))
    write(root / "migrations" / "versions" / f"{SCHEMA_REVISION}_colours.py", SCHEMA)
    # prepend_sys_path = . (as alembic init writes it): the project's folder is the working one.
    monkeypatch.chdir(root)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return root


def config(root: Path) -> Config:
    return Config(str(root / "alembic.ini"))


def log_revision_file(root: Path) -> Path:
    [found] = [
        path
        for path in (root / "migrations" / "versions").glob("*.py")
        if "create_log_table(op)" in path.read_text("utf-8")
    ]
    return found


# -- what init writes ----------------------------------------------------------------------


def test_init_sets_up_what_alembic_init_made(project: Path) -> None:
    result = seeds(project, "init", "--metadata", METADATA)
    assert result.exit_code == 0, result.output
    cfg = config(project)
    assert cfg.get_section_option("seeds", "metadata") == METADATA
    assert cfg.get_section_option("seeds", "branch") == "seeds"
    assert cfg.get_section_option("seeds", "seeddata") == str(project / "seeddata")
    assert cfg.get_section_option("seeds", "versions") == str(project / "data_migrations/versions")
    # Both folders of revisions: once version_locations is set, migrations/versions must be
    # named in it too.
    assert cfg.get_version_locations_list() == [
        str(project / "migrations/versions"),
        str(project / "data_migrations/versions"),
    ]
    assert "alembic_seeds" in (cfg.file_config.get("loggers", "keys") or "").split(",")
    assert cfg.file_config.get("logger_alembic_seeds", "qualname") == "alembic_seeds"
    assert cfg.file_config.get("logger_alembic_seeds", "level") == "INFO"
    # The log table's revision goes on top of the schema head; the first data revision will
    # depend on the schema head of the time it is written.
    log_file = log_revision_file(project)
    text = log_file.read_text("utf-8")
    assert f'down_revision: str | Sequence[str] | None = "{SCHEMA_REVISION}"' in text
    assert cfg.get_section_option("seeds", "depends_on") == "heads"
    assert (project / "migrations" / "env.py").read_text("utf-8") == wired_env(METADATA)
    assert (project / "seeddata").is_dir() and (project / "data_migrations/versions").is_dir()
    # The rest of alembic.ini is as alembic init wrote it: its comments are all still there.
    assert "# A generic, single database configuration." in (project / "alembic.ini").read_text()
    assert "Next:" in result.stdout


def test_second_init_changes_no_file(project: Path) -> None:
    assert seeds(project, "init", "--metadata", METADATA).exit_code == 0
    before = snapshot(project)
    result = seeds(project, "init", "--metadata", METADATA)
    assert result.exit_code == 0, result.output
    assert snapshot(project) == before
    assert "already set up for alembic-seeds; nothing changed" in result.stdout


def test_second_init_keeps_what_the_section_says_and_tells(project: Path) -> None:
    assert seeds(project, "init", "--metadata", METADATA).exit_code == 0
    before = snapshot(project)
    result = seeds(project, "init", "--metadata", "initdemo_models:metadata", "--branch", "data")
    assert result.exit_code == 0, result.output
    assert snapshot(project) == before
    assert "[seeds] already has branch = seeds: kept (not data)" in result.stdout


def test_init_in_a_project_already_set_up_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The frozen Lumina project: [seeds], both version folders, its own log table revision,
    the logger, and an env.py that uses alembic_seeds."""
    root = copy_project(tmp_path / "lumina")
    before = snapshot(root)
    result = seeds(root, "init")
    assert result.exit_code == 0, result.output
    assert snapshot(root) == before
    assert "nothing changed" in result.stdout


def test_init_without_metadata_asks_for_it_and_writes_nothing(project: Path) -> None:
    before = snapshot(project)
    result = seeds(project, "init")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: seeds init needs the MetaData of your models (what env.py gives "
        "target_metadata): seeds init --metadata package.module:attribute "
        "(myapp.models:Base.metadata, say)"
    ]
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("initdemo_models:nothing_here", "cannot import 'initdemo_models:nothing_here'"),
        ("initdemo_models:colour", "that is a Table, not a MetaData"),
        ("initdemo_models", "must look like 'package.module:name'"),
    ],
)
def test_init_with_a_wrong_metadata_says_so_and_writes_nothing(
    project: Path, target: str, message: str
) -> None:
    before = snapshot(project)
    result = seeds(project, "init", "--metadata", target)
    assert result.exit_code == 2
    assert message in result.stderr
    assert snapshot(project) == before


def test_models_not_found_from_another_folder_say_where_python_looked(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prepend_sys_path = . (as alembic init writes it) is the folder a command runs in."""
    write(project / "hintdemo_models.py", MODELS)
    elsewhere = tmp_path / "elsewhere"
    # Found there, but it imports a package nobody installed: not a search-path matter.
    write(elsewhere / "hintdemo_broken.py", "import hintdemo_not_installed\n")
    monkeypatch.chdir(elsewhere)
    # Python keeps the finder of "." for the folder it first looked in: this test's own.
    monkeypatch.setattr(sys, "path_importer_cache", dict(sys.path_importer_cache))
    sys.path_importer_cache.pop(".", None)
    before = snapshot(project)
    result = seeds(project, "init", "--metadata", "hintdemo_models:metadata")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: cannot import 'hintdemo_models:metadata': No module named 'hintdemo_models' "
        f"(prepend_sys_path = . in {project / 'alembic.ini'} is relative to the folder the "
        f"command runs in, {elsewhere}: run it from the project's folder, or write %(here)s "
        "there instead)"
    ]
    result = seeds(project, "init", "--metadata", "hintdemo_broken:metadata")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: cannot import 'hintdemo_broken:metadata': No module named 'hintdemo_not_installed'"
    ]
    assert snapshot(project) == before


def test_changed_env_is_left_alone_and_gets_instructions(project: Path) -> None:
    env = project / "migrations" / "env.py"
    text = env.read_text("utf-8").replace(
        "target_metadata = None", "from initdemo_models import metadata\ntarget_metadata = metadata"
    )
    env.write_text(text, "utf-8")
    result = seeds(project, "init", "--metadata", METADATA)
    assert result.exit_code == 0, result.output
    assert env.read_text("utf-8") == text
    lines = text.splitlines()
    where = lines.index("target_metadata = metadata") + 1
    connect = next(i for i, line in enumerate(lines, 1) if "connectable.connect()" in line)
    out = result.stdout
    assert f"{env} is not Alembic's generic env.py, so seeds init leaves it as it is." in out
    assert f"after line {where} (`target_metadata = metadata`):" in out
    assert "      seeds = alembic_seeds.SeedsEnvironment(target_metadata)" in out
    assert f"in place of line {connect} (`with connectable.connect() as connection:`)" in out
    assert "      with seeds.connect(connectable) as connection:" in out
    assert "**seeds.configure_options()" in out
    # Everything else was set up all the same.
    assert config(project).get_section_option("seeds", "metadata") == METADATA


# -- the first data revision comes after the schema ----------------------------------------


def schema_revision_on(down_revision: str | None, revision: str = SCHEMA_REVISION) -> str:
    """The SCHEMA revision (colours and shades), on top of ``down_revision``."""
    return SCHEMA.replace(f'"{SCHEMA_REVISION}"', f'"{revision}"').replace(
        "down_revision = None", f"down_revision = {down_revision!r}"
    )


@pytest.fixture
def bare(initialized: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What ``alembic init migrations`` made and a models module: no schema revision yet."""
    root = tmp_path / "bare"
    shutil.copytree(initialized, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(root)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return root


def test_tables_revised_after_init_come_before_the_first_data_revision(bare: Path) -> None:
    """As a new project goes: seeds init, then the schema revision of the models (on top of
    the log table's), then the first data revision, which must depend on the latter."""
    assert seeds(bare, "init", "--metadata", METADATA).exit_code == 0
    log_revision = log_revision_file(bare).name.split("_")[0]
    write(
        bare / "migrations" / "versions" / f"{SCHEMA_REVISION}_colours.py",
        schema_revision_on(log_revision),
    )
    write_jsonl(bare / "seeddata" / "colour.jsonl", COLOURS)
    result = seeds(bare, "revision", "--autogenerate", "-m", "first colours")
    assert result.exit_code == 0, result.output
    [data_revision] = (bare / "data_migrations" / "versions").glob("*.py")
    depends_on = f'depends_on: str | tuple[str, ...] | None = "{SCHEMA_REVISION}"'
    assert depends_on in data_revision.read_text("utf-8")
    url = f"sqlite:///{bare / 'empty.db'}"
    upgraded = alembic(bare, "upgrade", "heads", url=url)
    assert upgraded.returncode == 0, upgraded.stderr


def test_first_data_revision_on_several_schema_heads_says_what_to_do(bare: Path) -> None:
    assert seeds(bare, "init", "--metadata", METADATA).exit_code == 0
    # A second root: the schema now has two heads, the log table's and this one.
    write(
        bare / "migrations" / "versions" / f"{SCHEMA_REVISION}_colours.py",
        schema_revision_on(None),
    )
    write_jsonl(bare / "seeddata" / "colour.jsonl", COLOURS)
    result = seeds(bare, "revision", "--autogenerate", "-m", "first colours")
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: [seeds] depends_on = heads: "), line
    assert "alembic merge heads" in line
    assert list((bare / "data_migrations" / "versions").iterdir()) == []


# -- alembic.ini variants ------------------------------------------------------------------


def set_main_option_text(root: Path, old: str, new: str) -> None:
    ini = root / "alembic.ini"
    text = ini.read_text("utf-8")
    assert old in text, old
    ini.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.filterwarnings("ignore:No path_separator found:DeprecationWarning")
@pytest.mark.parametrize(
    ("separator", "existing"),
    [
        ("path_separator = os", None),
        ("path_separator = space", None),
        ("path_separator = newline", None),
        ("path_separator = ;", "version_locations = %(here)s/migrations/versions"),
        ("", None),  # no separator option: Alembic's legacy splitting on spaces and commas
        ("", "version_locations = %(here)s/migrations/versions"),
    ],
)
def test_version_locations_follow_the_path_separator(
    project: Path, separator: str, existing: str | None
) -> None:
    replacement = separator
    if existing:
        replacement = f"{separator}\n{existing}"
    set_main_option_text(project, "path_separator = os", replacement)
    assert seeds(project, "init", "--metadata", METADATA).exit_code == 0
    locations = config(project).get_version_locations_list()
    assert locations == [
        str(project / "migrations/versions"),
        str(project / "data_migrations/versions"),
    ]
    before = snapshot(project)
    assert seeds(project, "init", "--metadata", METADATA).exit_code == 0
    assert snapshot(project) == before


def test_several_schema_heads_must_be_merged_first(project: Path) -> None:
    write(
        project / "migrations" / "versions" / "c0100000bbbb_other.py",
        '''
        """Another head."""
        revision = "c0100000bbbb"
        down_revision = None
        branch_labels = ("other",)
        depends_on = None


        def upgrade() -> None:
            pass


        def downgrade() -> None:
            pass
        ''',
    )
    before = snapshot(project)
    result = seeds(project, "init", "--metadata", METADATA)
    assert result.exit_code == 2
    assert "the schema has several heads (c0100000aaaa, c0100000bbbb): merge them first" in (
        result.stderr
    )
    assert snapshot(project) == before


def test_no_alembic_ini_is_one_line(tmp_path: Path) -> None:
    result = seeds(tmp_path, "init", "--metadata", METADATA)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'alembic.ini'}: no such file (run alembic init first, or use -c)"
    ]


# -- the spec: named, or derived from the metadata ----------------------------------------


def test_missing_spec_is_derived_from_the_metadata_of_the_tables_option(project: Path) -> None:
    assert seeds(project, "init", "--metadata", METADATA).exit_code == 0
    derived = SeedsProject.from_config(config(project)).spec
    assert {file.rows.table for file in derived.files} == {"colour", "shade"}
    set_main_option_text(project, "branch = seeds\n", "branch = seeds\ntables = colour\n")
    assert [file.rows.table for file in SeedsProject.from_config(config(project)).spec.files] == [
        "colour"
    ]


# -- the whole walk ------------------------------------------------------------------------


def test_init_revision_upgrade_check_on_sqlite_and_postgresql(project: Path, db_url: str) -> None:
    assert seeds(project, "init", "--metadata", METADATA).exit_code == 0
    set_main_option_text(
        project, "branch = seeds\n", "branch = seeds\nspec = initdemo_seeds:SPEC\n"
    )
    write(project / "initdemo_seeds.py", SPEC)
    write_jsonl(project / "seeddata" / "colours.jsonl", COLOURS)
    write_jsonl(project / "seeddata" / "shades.jsonl", SHADES)

    result = seeds(project, "revision", "--autogenerate", "-m", "first colours")
    assert result.exit_code == 0, result.output
    [data_revision] = (project / "data_migrations" / "versions").glob("*.py")
    text = data_revision.read_text("utf-8")
    assert 'branch_labels: tuple[str, ...] | None = ("seeds",)' in text
    log_revision = log_revision_file(project).name.split("_")[0]
    assert f'depends_on: str | tuple[str, ...] | None = "{log_revision}"' in text

    upgraded = alembic(project, "upgrade", "heads", url=db_url)
    assert upgraded.returncode == 0, upgraded.stderr
    # The per-table report of the data revision, through the logger init added.
    assert "[alembic_seeds]   shade " in upgraded.stderr, upgraded.stderr
    engine = engine_for(db_url)
    try:
        with engine.connect() as connection:
            shades = connection.execute(sa.text("SELECT id, colour_id, name FROM shade")).all()
            logged = connection.execute(sa.text("SELECT revision FROM alembic_seeds_log")).all()
    finally:
        engine.dispose()
    assert sorted(tuple(row) for row in shades) == [
        (10, 1, "crimson"),
        (11, 1, "scarlet"),
        (20, 2, "olive"),
    ]
    assert [row[0] for row in logged] == [data_revision.name.split("_")[0]]

    # Autogenerate sees the models and the log table as they are: nothing to add or drop.
    checked = alembic(project, "check", url=db_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout
    again = alembic(project, "upgrade", "heads", url=db_url)
    assert again.returncode == 0 and "Running upgrade" not in again.stderr, again.stderr
    assert seeds(project, "check").exit_code == 0

    offline = alembic(project, "upgrade", "heads", "--sql", url=db_url)
    assert offline.returncode == 0, offline.stderr
    assert "INSERT INTO shade" in offline.stdout
