"""docs/guide.md, walked as a newcomer walks it: every step in order, from an empty folder,
each shell block pasted into a new shell; its PostgreSQL steps on the test's server.

- The walk ends with exactly the project of ``examples/catalogue`` (revision ids and dates
  aside): the example is what the guide's commands make.
- Its ``seeds dump`` step, run on the database the walk deployed to, writes ``seeddata/`` back
  byte for byte.
- Its role SQL deploys the catalogue: the schema as the owner, the data as the seeder.
"""

from __future__ import annotations

import configparser
import re
import shutil
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.databases import admin_engine, drop_database, engine_for, unique_database_name
from tests.fixture_projects import REPOSITORY_ROOT
from tests.guide_steps import (
    EXAMPLE,
    GUIDE,
    GUIDE_DATABASE,
    Server,
    Step,
    commands,
    copy_example,
    guide_steps,
    link_venv,
    project_files,
    run_ok,
    take,
)

INSTALL = (
    "mkdir catalogue && cd catalogue && python3 -m venv .venv"
    " && .venv/bin/pip install alembic-seeds"
)
INSTALL_FROM_CLONE = ".venv/bin/pip install -e ../alembic-seeds"
#: Files of the example that the guide does not make: what the example says of itself.
EXAMPLE_ONLY = {"README.md", ".gitignore"}
#: Written by alembic init from Alembic's templates (compared by what they say, not word for word).
ALEMBIC_TEMPLATES = {"migrations/README", "migrations/script.py.mako"}
#: The options of [alembic] that the guide and seeds init set.
INI_OPTIONS = ("script_location", "version_locations", "sqlalchemy.url", "prepend_sys_path")
_REVISION_FILE = re.compile(
    r"(?:data_)?migrations/versions/(?P<rev>[0-9a-f]{12})_(?P<slug>\w+)\.py"
)


def normalized(root: Path) -> dict[str, str]:
    """The project's files, with each revision id replaced by its file's slug and dates
    blanked (what differs between two walks of the same steps)."""
    files = {str(path.relative_to(root)): path.read_text("utf-8") for path in project_files(root)}
    ids = {m["rev"]: m["slug"] for name in files if (m := _REVISION_FILE.fullmatch(name))}

    def blank(text: str) -> str:
        for revision, slug in ids.items():
            text = text.replace(revision, f"<{slug}>")
        return re.sub(r"Create Date: .*", "Create Date: <date>", text)

    return {blank(name): blank(text) for name, text in files.items()}


def walk(parent: Path, server: Server) -> tuple[Path, Step]:
    """Take every step of the guide in order; the project folder, and the dump step (which
    is for a project whose data sits in a database: run afterwards, on a copy)."""
    steps = guide_steps()
    installs = [commands(step) for step in steps if step.kind == "run" and step.installs]
    assert installs == [[INSTALL], [INSTALL_FROM_CLONE]]
    # What the install step makes: the folder, and a virtual environment with alembic-seeds.
    root = parent / "catalogue"
    root.mkdir()
    link_venv(root)
    [dump] = [step for step in steps if "seeds dump" in step.body]
    for step in steps:
        if step.kind in ("write", "set"):
            take(step, root)
        elif step.kind == "run" and not step.installs and step is not dump:
            run_ok(step.body, root, server if step.on_postgresql else None)
    return root, dump


def alembic_made(name: str) -> bool:
    """Files that Alembic writes from its templates, which change with Alembic's version."""
    return name in ALEMBIC_TEMPLATES or name == "migrations/versions/<catalogue_tables>.py"


def ini_settings(text: str) -> dict[str, dict[str, str]]:
    """What alembic.ini says that the guide and seeds init set: [seeds], the logger, and the
    options of [alembic] they change."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    main = {key: parser["alembic"][key] for key in INI_OPTIONS}
    sections = {name: dict(parser[name]) for name in ("seeds", "logger_alembic_seeds")}
    return {"alembic": main, "loggers": {"keys": parser["loggers"]["keys"]}, **sections}


def created_tables(revision: str) -> list[str]:
    return re.findall(r"op\.create_table\(\s*['\"](\w+)['\"]", revision)


def assert_same_project(walked: dict[str, str], example: dict[str, str]) -> None:
    assert sorted(walked) == sorted(set(example) - EXAMPLE_ONLY)
    for name, text in walked.items():
        if name == "alembic.ini":
            assert ini_settings(text) == ini_settings(example[name])
        elif name.startswith("migrations/versions/<catalogue_tables>"):
            assert created_tables(text) == created_tables(example[name])
            assert created_tables(text) == ["category", "tag", "product", "product_tag"]
        elif not alembic_made(name):
            assert text == example[name], name


def test_the_guide_walked_from_an_empty_folder_makes_the_example(
    postgres_server_url: str, tmp_path: Path
) -> None:
    server = Server(postgres_server_url, unique_database_name())
    admin = admin_engine(postgres_server_url)
    try:
        root, dump = walk(tmp_path, server)
        assert_same_project(normalized(root), normalized(EXAMPLE))

        # The data as it sits in the deployed database, dumped into an empty seeddata/.
        dumped = tmp_path / "dumped"
        shutil.copytree(root, dumped, symlinks=True)
        for path in (dumped / "seeddata").iterdir():
            path.unlink()
        run_ok(dump.body, dumped, server)
        assert {path.name: path.read_bytes() for path in (dumped / "seeddata").iterdir()} == {
            path.name: path.read_bytes() for path in (root / "seeddata").iterdir()
        }
    finally:
        drop_database(admin, server.database)
        admin.dispose()


def role_sql(step: Step, server: Server, owner: str, seeder: str) -> list[str]:
    """The statements of one of the guide's SQL blocks, for the test's database and roles."""
    sql = server.rewrite(step.body)
    sql = re.sub(r"\bcatalogue_owner\b", owner, sql)
    sql = re.sub(r"\bcatalogue_seeder\b", seeder, sql)
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [statement.strip() for statement in "\n".join(lines).split(";") if statement.strip()]


def execute(url: str, statements: list[str]) -> None:
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role).render_as_string(hide_password=False)


def test_the_guides_roles_deploy_the_schema_as_owner_and_the_data_as_seeder(
    pg_url: str, tmp_path: Path
) -> None:
    blocks = [step for step in guide_steps() if step.lang == "sql"]
    assert len(blocks) == 2
    database = str(make_url(pg_url).database)
    server = Server(pg_url, database)
    tag = uuid.uuid4().hex[:8]
    owner, seeder = f"catalogue_owner_{tag}", f"catalogue_seeder_{tag}"
    root = copy_example(tmp_path / "catalogue")
    try:
        # New databases let PUBLIC make temporary tables; the guide grants it all the same.
        execute(pg_url, [f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC'])
        execute(pg_url, role_sql(blocks[0], server, owner, seeder))
        run_ok(f"DATABASE_URL={as_role(pg_url, owner)} .venv/bin/alembic upgrade schema@head", root)
        execute(as_role(pg_url, owner), role_sql(blocks[1], server, owner, seeder))
        seeder_url = as_role(pg_url, seeder)
        run_ok(f"DATABASE_URL={seeder_url} .venv/bin/alembic upgrade seeds@head", root)
        run_ok(f"DATABASE_URL={seeder_url} .venv/bin/seeds check --db", root)
        engine = engine_for(pg_url)
        try:
            with engine.connect() as connection:
                can_create = connection.execute(
                    sa.text("SELECT has_schema_privilege(:role, 'public', 'CREATE')"),
                    {"role": seeder},
                ).scalar()
        finally:
            engine.dispose()
        assert can_create is False
    finally:
        execute(
            pg_url,
            [
                f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN"
                f" EXECUTE 'DROP OWNED BY \"{role}\"'; EXECUTE 'DROP ROLE \"{role}\"';"
                " END IF; END $$"
                for role in (seeder, owner)
            ],
        )


def test_the_guide_names_its_database_where_the_walk_replaces_it() -> None:
    """What Server.rewrite replaces is written in the guide as it expects."""
    postgres = [step for step in guide_steps() if step.kind == "run" and step.on_postgresql]
    assert postgres
    for step in postgres:
        for command in commands(step):
            assert "127.0.0.1" in command and "postgres" in command, command
            assert GUIDE_DATABASE in command, command


def anchors(markdown: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown``."""
    text = re.sub(r"^```.*?^```", "", markdown.read_text("utf-8"), flags=re.M | re.S)
    headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_the_links_of_the_guide_and_the_readmes_lead_somewhere() -> None:
    broken = []
    for page in (GUIDE, REPOSITORY_ROOT / "README.md", EXAMPLE / "README.md"):
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text("utf-8")):
            if re.match(r"\w+://", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(REPOSITORY_ROOT)}: {target}")
    assert broken == []
