"""docs/guide.md read as the steps it asks a reader to take, and run as a reader runs them.

The guide is written for people; its steps are recognisable all the same:

- a ``sh`` block is commands to paste into a new shell (in the project's folder, unless it is
  the block that makes that folder);
- a code block after a paragraph ending "Write `PATH`:" is the whole text of that file;
- an ``ini`` block after "In `FILE`, change the `OPTION` line to:" replaces that line;
- any other block (sample output, SQL, snippets) is for reading.

Commands that name the PostgreSQL server of the guide (``127.0.0.1:5432``, role ``postgres``,
database ``catalogue``) are run against the test's server and database instead
(:func:`on_server`), as the guide tells readers with another server to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.fixture_projects import REPOSITORY_ROOT

GUIDE = REPOSITORY_ROOT / "docs" / "guide.md"
EXAMPLE = REPOSITORY_ROOT / "examples" / "catalogue"
#: The database the guide's PostgreSQL commands name.
GUIDE_DATABASE = "catalogue"

_BLOCK = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S)
_WRITE = re.compile(r"Write `(?P<path>[^`]+)`:$")
_SET = re.compile(r"In `(?P<path>[^`]+)`, change the `(?P<option>[^`]+)` line to:$")


@dataclass(frozen=True)
class Step:
    #: "run" (a shell block), "write" (a whole file), "set" (one line of a file) or "read".
    kind: str
    lang: str
    body: str
    #: The ``## `` section it is in.
    section: str
    path: str | None = None
    option: str | None = None

    @property
    def on_postgresql(self) -> bool:
        return "postgresql+psycopg://" in self.body or "createdb" in self.body

    @property
    def installs(self) -> bool:
        return "pip install" in self.body


def guide_steps(text: str | None = None) -> list[Step]:
    text = GUIDE.read_text(encoding="utf-8") if text is None else text
    steps = []
    end = 0
    for block in _BLOCK.finditer(text):
        before = text[end : block.start()]
        end = block.end()
        sections = re.findall(r"^## (.+)$", text[: block.start()], flags=re.M)
        section = sections[-1] if sections else ""
        indent = len(block["indent"])
        body = "".join(line[indent:] + "\n" for line in block["body"].splitlines())
        paragraph = " ".join(before.strip().split("\n\n")[-1].split())
        lang = block["lang"]
        if written := _WRITE.search(paragraph):
            steps.append(Step("write", lang, body, section, path=written["path"]))
        elif lang == "ini" and (option := _SET.search(paragraph)):
            steps.append(
                Step("set", lang, body, section, path=option["path"], option=option["option"])
            )
        elif lang == "sh":
            steps.append(Step("run", lang, body, section))
        else:
            steps.append(Step("read", lang, body, section))
    return steps


def commands(step: Step) -> list[str]:
    """The command lines of a shell block."""
    return [line for line in step.body.splitlines() if line.strip()]


def take(step: Step, root: Path) -> None:
    """Do a "write" or "set" step in the project folder ``root``."""
    assert step.path is not None
    path = root / step.path
    if step.kind == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(step.body, encoding="utf-8")
        return
    assert step.kind == "set" and step.option is not None
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.startswith(f"{step.option} =")]
    assert len(found) == 1, f"{step.path} has {len(found)} lines of {step.option}"
    lines[found[0]] = step.body
    path.write_text("".join(lines), encoding="utf-8")


# --- Running commands as pasted ----------------------------------------------------------


def test_venv() -> Path:
    """The virtual environment the tests run from, which has alembic-seeds installed: the
    one a reader's ``pip install`` makes (linked as the project's ``.venv``)."""
    venv = Path(sys.executable).parent.parent
    if not (venv / "bin" / "alembic").exists() or not (venv / "bin" / "seeds").exists():
        pytest.skip("the tests do not run from a virtual environment with alembic and seeds")
    return venv


def link_venv(root: Path) -> None:
    (root / ".venv").symlink_to(test_venv())


@dataclass(frozen=True)
class Server:
    """Where the guide's PostgreSQL commands go instead of the guide's own server."""

    url: str
    database: str

    def rewrite(self, command: str) -> str:
        server = make_url(self.url)
        user = str(server.username)
        return (
            command.replace(
                f"@127.0.0.1:5432/{GUIDE_DATABASE}",
                f"@{server.host}:{server.port or 5432}/{self.database}",
            )
            .replace("-h 127.0.0.1 -p 5432", f"-h {server.host} -p {server.port or 5432}")
            .replace(f"-U postgres {GUIDE_DATABASE}", f"-U {user} {self.database}")
            .replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://{user}@")
            .replace(f"ON DATABASE {GUIDE_DATABASE} ", f'ON DATABASE "{self.database}" ')
        )

    def environment(self) -> dict[str, str]:
        password = make_url(self.url).password
        return {"PGPASSWORD": str(password)} if password else {}


def shell(
    command: str, cwd: Path, server: Server | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as pasted into a new shell in ``cwd`` (a server's commands on it)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.startswith("SEEDS_")
    }
    if server is not None:
        command = server.rewrite(command)
        env.update(server.environment())
    return subprocess.run(
        ["bash", "-e", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def run_ok(command: str, cwd: Path, server: Server | None = None) -> str:
    done = shell(command, cwd, server)
    assert done.returncode == 0, (
        f"{command!r} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    return done.stdout + done.stderr


# --- Comparing projects ------------------------------------------------------------------

#: What a project folder holds that is not the project: its tools, caches and databases.
_NOT_PROJECT = shutil.ignore_patterns(".venv", "__pycache__", "*.pyc", "*.db", ".seeds_cache")


def project_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        ignored = {".venv", "__pycache__", ".seeds_cache"}
        if path.is_file() and not ignored & set(parts) and path.suffix != ".db":
            yield path


def copy_example(root: Path) -> Path:
    """A copy of examples/catalogue, as someone copies it out, with alembic-seeds installed."""
    shutil.copytree(EXAMPLE, root, ignore=_NOT_PROJECT)
    link_venv(root)
    return root
