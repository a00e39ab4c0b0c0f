"""The README's commands work as pasted into a new shell in the repository's folder.

- Every shell command runs its program from the virtual environment the quick start makes
  (``.venv/bin/...``), or is a tool the README says to have (``python3``, PostgreSQL's
  ``createdb``): never a bare ``seeds`` or ``alembic``, which a new shell does not find.
- The PostgreSQL quick start, with the replacements the README names (host, port, user) and a
  throwaway database name, creates the database and fills it; so does the MySQL one.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.databases import admin_engine, drop_database, unique_database_name
from tests.deploy_helpers import copy_project, versions
from tests.fixture_projects import REPOSITORY_ROOT

README = REPOSITORY_ROOT / "README.md"
#: Programs a reader has before the quick start (or that it says to have).
TOOLS = {"python3", "createdb", "mariadb"}
VENV = ".venv/bin/"


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def programs(block: str) -> list[str]:
    """The program of every command of a shell block (after any VAR=value assignments)."""
    found = []
    for line in block.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for word in [*lexer, ";"]:
            if word in ("&&", "||", ";", "|"):
                while command and re.fullmatch(r"[A-Z_]+=\S*", command[0]):
                    command.pop(0)
                if command:
                    found.append(command[0])
                command = []
            else:
                command.append(word)
    return found


def test_every_shell_command_of_the_readme_works_in_a_new_shell() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    used = [program for block in blocks for program in programs(block)]
    strays = [
        program
        for program in used
        if program not in TOOLS
        and not program.startswith(VENV)
        and program != "${EDITOR:-vi}"  # the reader's editor, vi when none is set
    ]
    assert strays == [], f"commands a new shell does not find: {strays}"
    assert f"{VENV}seeds" in used and f"{VENV}alembic" in used


def test_readme_names_no_placeholder_host() -> None:
    text = README.read_text(encoding="utf-8")
    assert "user@host" not in text
    assert "postgresql+psycopg://..." not in text


def run_quick_start(
    commands: str, server_url: str, name: str, password_variable: str, root: Path
) -> None:
    """Run a quick start's ``commands`` (rewritten for the test's server, to create the
    database ``name``) in a new shell in a copy of the project, as a reader pastes them; the
    database then holds every head. It is dropped afterwards."""
    venv = Path(sys.executable).parent.parent
    if not (venv / "bin" / "alembic").exists():
        pytest.skip("the tests do not run from a virtual environment with alembic in it")
    server = make_url(server_url)
    project = copy_project(root)
    (project.root / ".venv").symlink_to(venv)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if server.password:
        env[password_variable] = str(server.password)
    admin = admin_engine(server_url)
    try:
        done = subprocess.run(
            ["bash", "-e", "-c", commands],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        url = server.set(database=name).render_as_string(hide_password=False)
        assert versions(url) == project.stored_heads()
    finally:
        drop_database(admin, name)
        admin.dispose()


def test_postgresql_quick_start_as_pasted_creates_and_fills_the_database(
    postgres_server_url: str, tmp_path: Path
) -> None:
    if shutil.which("createdb") is None:
        pytest.skip("createdb (PostgreSQL's client tools) is not on PATH")
    quick_start = section(README.read_text(encoding="utf-8"), "Quick start")
    [block] = [block for block in shell_blocks(quick_start) if "createdb" in block]
    # What the README says to replace for another server, and the database's name.
    for part in ("127.0.0.1", "5432", "-U postgres", "postgres@", "lumina"):
        assert part in block, part
    server = make_url(postgres_server_url)
    name = unique_database_name()
    commands = (
        block.replace("127.0.0.1", str(server.host))
        .replace("5432", str(server.port or 5432))
        .replace("-U postgres", f"-U {server.username}")
        .replace("postgres@", f"{server.username}@")
        .replace("lumina", name)
    )
    run_quick_start(commands, postgres_server_url, name, "PGPASSWORD", tmp_path / "project")


def test_mysql_quick_start_as_pasted_creates_and_fills_the_database(
    mysql_server_url: str, tmp_path: Path
) -> None:
    if shutil.which("mariadb") is None:
        pytest.skip("mariadb (the client) is not on PATH")
    quick_start = section(README.read_text(encoding="utf-8"), "Quick start")
    [block] = [block for block in shell_blocks(quick_start) if "mariadb" in block]
    for part in ("127.0.0.1", "3306", "-u root", "root@", "lumina"):
        assert part in block, part
    server = make_url(mysql_server_url)
    name = unique_database_name()
    # The driver is in the test environment already: installing the copy would repoint it.
    pip, *rest = block.splitlines()
    assert pip == f"{VENV}pip install -e '.[mysql]'", pip
    commands = (
        "\n".join(rest)
        .replace("127.0.0.1", str(server.host))
        .replace("3306", str(server.port or 3306))
        .replace("-u root", f"-u {server.username}")
        .replace("root@", f"{server.username}@")
        .replace("lumina", name)
    )
    run_quick_start(commands, mysql_server_url, name, "MYSQL_PWD", tmp_path / "project")
