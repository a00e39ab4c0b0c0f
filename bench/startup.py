"""What every command pays before it does anything: starting Python, Alembic and the project.

* ``bare_project(folder)``: a minimal Alembic project to compare with: an ``env.py`` that
  only opens a connection from ``DATABASE_URL`` and no revisions. The benchmark's no-op
  table times ``alembic current`` of it next to this project's, on the same database.
* ``python -m bench.startup [--runs N]``: where the start-up of this project's ``alembic
  current`` and no-op ``alembic upgrade heads`` goes, from ``python -X importtime`` (on a
  SQLite copy of the project's database, in a scratch folder): the import time of every
  module the bare project does not import, by package, and which file imported each of the
  project's modules and the large libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.generate import ROOT, tool

#: The bare project's env.py. Its version table is its own: the database's alembic_version
#: names revisions the bare project does not have, which ``alembic current`` would refuse.
BARE_ENV = '''\
"""A bare Alembic environment: a connection from DATABASE_URL, no metadata, no revisions."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, version_table="bare_alembic_version")
    with context.begin_transaction():
        context.run_migrations()
'''
BARE_INI = """\
[alembic]
script_location = %(here)s/migrations
"""


def bare_project(folder: Path) -> Path:
    """A minimal Alembic project in ``folder`` (created): alembic.ini, env.py, no revisions."""
    (folder / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
    (folder / "alembic.ini").write_text(BARE_INI)
    (folder / "migrations" / "env.py").write_text(BARE_ENV)
    return folder


# -- where the start-up goes: python -X importtime ------------------------------------------

#: The packages of this repository's project (the engine and the domain).
PROJECT_PACKAGES = ("alembic_seeds", "lumina")
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$")

#: Runs ``alembic ARGS`` with an import hook that writes, for every module, the code that
#: imported it first (the first frame outside the import machinery and the lazy public API),
#: as JSON into the file named by the first argument.
_WHO_IMPORTS = """
import atexit, json, runpy, sys
out, args = sys.argv[1], sys.argv[2:]
first = {}
SKIP = ("<frozen", "/importlib/", "/alembic_seeds/__init__.py")
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name not in first:
            frame, chain = sys._getframe(1), []
            while frame is not None and len(chain) < 2:
                file = frame.f_code.co_filename
                if not file.startswith(SKIP[0]) and not any(s in file for s in SKIP[1:]):
                    chain.append(f"{file}:{frame.f_lineno}")
                frame = frame.f_back
            first[name] = chain
        return None
sys.meta_path.insert(0, Spy())
atexit.register(lambda: open(out, "w").write(json.dumps(first)))
sys.argv = ["alembic", *args]
runpy.run_module("alembic", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class Imported:
    """One module in ``-X importtime`` output: its own import time and with what it imported."""

    name: str
    self_us: int
    cumulative_us: int
    #: The module whose import imported it (None: imported by code run outside an import,
    #: such as env.py or a revision file, which Alembic loads from their paths).
    parent: str | None


def parse_importtime(text: str) -> dict[str, Imported]:
    """Every module of ``python -X importtime`` output (stderr), with its importer."""
    modules: dict[str, Imported] = {}
    # Lines come after the lines of what the module imported (one level deeper).
    waiting: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for line in text.splitlines():
        match = _IMPORTTIME.match(line)
        if match is None:
            continue
        own, cumulative, indent, name = match.groups()
        depth = len(indent) // 2
        for child, child_own, child_cumulative in waiting.pop(depth + 1, []):
            modules[child] = Imported(child, child_own, child_cumulative, name)
        waiting[depth].append((name, int(own), int(cumulative)))
    for entries in waiting.values():
        for name, own_us, cumulative_us in entries:
            modules[name] = Imported(name, own_us, cumulative_us, None)
    return modules


@dataclass
class Profile:
    """Several runs of one command under ``-X importtime``: medians per module."""

    label: str
    wall: list[float]
    runs: list[dict[str, Imported]]

    def self_ms(self, name: str) -> float:
        return statistics.median(r[name].self_us if name in r else 0 for r in self.runs) / 1000

    def cumulative_ms(self, name: str) -> float:
        return (
            statistics.median(r[name].cumulative_us if name in r else 0 for r in self.runs) / 1000
        )

    @property
    def names(self) -> set[str]:
        """Modules imported in every run."""
        return set.intersection(*(set(r) for r in self.runs))

    def parent(self, name: str) -> str | None:
        return self.runs[0][name].parent

    def import_ms(self) -> float:
        return statistics.median(sum(m.self_us for m in r.values()) for r in self.runs) / 1000


def profile(label: str, project: Path, url: str, args: list[str], runs: int) -> Profile:
    """``alembic ARGS`` in ``project`` against ``url``, ``runs`` times, under importtime."""
    wall, parsed = [], []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "alembic", *args],
            cwd=project,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=False,
        )
        wall.append(time.perf_counter() - started)
        if completed.returncode != 0:
            raise RuntimeError(f"alembic {' '.join(args)} failed:\n{completed.stderr[-3000:]}")
        parsed.append(parse_importtime(completed.stderr))
    return Profile(label, wall, parsed)


def first_importers(project: Path, url: str, args: list[str]) -> dict[str, list[str]]:
    """Module -> the code that imported it first (file:line, then its caller)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "importers.json"
        subprocess.run(
            [sys.executable, "-c", _WHO_IMPORTS, str(out), *args],
            cwd=project,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            check=True,
        )
        found: dict[str, list[str]] = json.loads(out.read_text())
    return found


def _where(location: str) -> str:
    """A file:line as the report shows it: inside the project, or inside a library."""
    path, _, line = location.rpartition(":")
    packages, stdlib = "site-packages" + os.sep, f"{os.sep}lib{os.sep}python3."
    if packages in path:
        return f"{path.split(packages, 1)[1]}:{line}"
    if stdlib in path:  # .../lib/python3.11/logging/config.py -> logging/config.py
        return f"{path.split(stdlib, 1)[1].split(os.sep, 1)[-1]}:{line}"
    root = str(ROOT) + os.sep
    if path.startswith(root):
        return f"{path.removeprefix(root)}:{line}"
    return f"{Path(path).name}:{line}"


#: Packages reported together with another (psycopg's compiled speed-ups).
_WITH = {"psycopg_binary": "psycopg", "psycopg_c": "psycopg"}


def _package(name: str) -> str:
    """The group a module is counted in: its top-level package; the project's sub-packages
    apart (``alembic_seeds.apply``)."""
    top = name.split(".", maxsplit=1)[0]
    if top in PROJECT_PACKAGES and "." in name:
        return ".".join(name.split(".")[:2])
    return _WITH.get(top, top)


def report(profiles: list[Profile], bare: Profile, importers: dict[str, list[str]]) -> str:
    """Markdown: the commands' start-up, then what this project imports beyond bare Alembic."""
    lines = [
        f"## Start-up (python -X importtime, median of {len(bare.runs)} runs, SQLite)",
        "",
        "| command | wall time | import time (all modules) | modules imported |",
        "|---|---:|---:|---:|",
    ]
    for p in (bare, *profiles):
        lines.append(
            f"| {p.label} | {statistics.median(p.wall) * 1000:.0f} ms | "
            f"{p.import_ms():.0f} ms | {len(p.names)} |"
        )
    for p in profiles:
        extra = p.names - bare.names
        groups: dict[str, list[str]] = defaultdict(list)
        for name in extra:
            groups[_package(name)].append(name)
        lines += [
            "",
            f"### {p.label}: what it imports that bare Alembic does not",
            "",
            "Import time of a group: the sum of its modules' own times (what leaving the group "
            "out would save). Imported by: the modules (or file:line, for code Alembic runs "
            "from a path) that import the group's first modules.",
            "",
            "| package | modules | import time | imported by |",
            "|---|---:|---:|---|",
        ]
        ranked = sorted(groups.items(), key=lambda g: -sum(p.self_ms(n) for n in g[1]))
        for group, names in ranked:
            total = sum(p.self_ms(n) for n in names)
            if total < 1 and not group.startswith(PROJECT_PACKAGES):
                continue
            members = set(names)
            entries = sorted(n for n in names if p.parent(n) not in members)
            # One importer per file: a file importing several of the group's modules once.
            first_by_file: dict[str, str] = {}
            for entry in entries:
                where = _importer(p, entry, importers)
                first_by_file.setdefault(where.split(":")[0], where)
            by = list(first_by_file.values())
            shown = ", ".join(by[:3]) + (f" and {len(by) - 3} more" if len(by) > 3 else "")
            lines.append(f"| {group} | {len(names)} | {total:.1f} ms | {shown} |")
        ours = sorted(
            (n for n in p.names if n.split(".")[0] in PROJECT_PACKAGES),
            key=lambda n: -p.cumulative_ms(n),
        )
        lines += [
            "",
            f"#### {p.label}: the project's modules",
            "",
            "| module | own | with what it imports | imported by |",
            "|---|---:|---:|---|",
        ]
        for name in ours:
            lines.append(
                f"| {name} | {p.self_ms(name):.1f} ms | {p.cumulative_ms(name):.1f} ms | "
                f"{_importer(p, name, importers)} |"
            )
    return "\n".join(lines) + "\n"


def _importer(p: Profile, name: str, importers: dict[str, list[str]]) -> str:
    parent = p.parent(name)
    if parent is not None:
        return f"`{parent}`"
    chain = importers.get(name, [])
    return " <- ".join(_where(c) for c in chain) if chain else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.startup", description="Where the start-up of a command goes."
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per command (default 5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="seeds-startup-") as folder:
        scratch = Path(folder)
        url = f"sqlite:///{scratch / 'lumina.db'}"
        alembic = [tool("alembic")]
        subprocess.run(
            [*alembic, "upgrade", "heads"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            check=True,
        )
        bare = bare_project(scratch / "bare")
        profiles = [
            profile("this project: `alembic current`", ROOT, url, ["current"], args.runs),
            profile(
                "this project: `alembic upgrade heads` (nothing to do)",
                ROOT,
                url,
                ["upgrade", "heads"],
                args.runs,
            ),
        ]
        bare_profile = profile("bare Alembic: `alembic current`", bare, url, ["current"], args.runs)
        importers = first_importers(ROOT, url, ["current"])
        importers.update(
            {
                k: v
                for k, v in first_importers(ROOT, url, ["upgrade", "heads"]).items()
                if k not in importers
            }
        )
    print(report(profiles, bare_profile, importers), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
