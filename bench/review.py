"""The ``seeds`` commands people run around an upgrade, timed on the database it filled.

``seeds show seeds@head`` renders the import revision (every row of the dataset, as a
reviewer would read it), ``seeds check --db`` replays the revisions and compares every
seeded row of the database with them, ``seeds diff --db`` compares ``seeddata/`` with the
database. Each runs as a user runs it (a subprocess, Python start included), with its wall
time and peak RSS; each must succeed (exit 0: the database holds exactly ``seeddata/``).
"""

from __future__ import annotations

from pathlib import Path

from bench.contenders import run_command
from bench.db import Server
from bench.generate import tool
from bench.results_model import COMMANDS, Timed

#: Each command's arguments, by its name in ``COMMANDS``.
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "show": ("show", "seeds@head"),
    "check": ("check", "--db"),
    "diff": ("diff", "--db"),
}
assert ARGUMENTS.keys() == COMMANDS.keys()


def review_commands(server: Server, database: str, project: Path) -> dict[str, Timed]:
    """Every command of ``ARGUMENTS`` once in ``project`` against ``database``."""
    timed = {}
    for name, arguments in ARGUMENTS.items():
        command = run_command(
            [tool("seeds"), *arguments], project, {"DATABASE_URL": server.url_for(database)}
        )
        if command.returncode != 0:
            raise RuntimeError(
                f"seeds {' '.join(arguments)} exited {command.returncode}:\n"
                f"{command.output[-3000:]}"
            )
        timed[name] = Timed(command.seconds, command.max_rss_mb, command.cpu_seconds)
    return timed
