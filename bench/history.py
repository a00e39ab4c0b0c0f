"""How the commands that replay the data revisions grow with the history, not only the rows.

``seeds check`` (and ``seeds revision --autogenerate``, which does the same work before it
writes anything) replays every data revision of the branch offline, then compares the
result with ``seeddata/``. Here the data stays the same and the history grows: the import
revision, then 9 and 99 revisions on top of it (each the English text edit of 100
``Translation`` rows), so that the project holds 1, 10 and 100 data revisions over the same
rows; ``seeddata/`` is rewritten each time to hold what the last revision leaves, so that
``seeds check`` has nothing to report (exit 0) and every run does the same work.

Each count is timed as a user runs the command (a subprocess: wall time, peak RSS):
``seeds check`` with no replay cache (the cache folder removed before each run: a full
replay, which then writes the cache), ``seeds check`` with the cache the previous run left,
and ``seeds show seeds@head`` (the last revision, with the states before and after it);
and the replay alone (``replay_branch`` in this process), without and with the cache.
"""

from __future__ import annotations

import argparse
import datetime
import re
import shutil
import time
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic_seeds.changes.changeset import ChangeSet, Dataset, RowUpdate, TableChanges
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.dataset.load import primary_keys
from alembic_seeds.dataset.write import write_seeddata
from alembic_seeds.migration.autogenerate import render_revision
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.replay import replay_branch
from alembic_seeds.migration.replay_cache import cache_folder
from bench.contenders import Command, run_command
from bench.generate import autogenerate_revision, generate, make_project, tool
from bench.report import history_section
from bench.results_model import HistoryResult, Results
from lumina.models import metadata
from lumina.seeds import SPEC

#: Data revisions in the project, the import revision included.
REVISIONS = (1, 10, 100)
#: Rows each revision after the import edits (written inline in the revision, as
#: autogenerate writes up to 200 changes).
EDITS = 100
#: The scales the history is grown at (above, the rows dominate and the runs take minutes);
#: the quick run grows it at x10 only.
HISTORY_SCALES = (1, 10, 100)
QUICK_HISTORY_SCALES = (10,)


def _edits(dataset: Dataset, number: int) -> list[RowUpdate]:
    """The text edits of revision ``number`` (2 and up), applied to ``dataset`` too."""
    rows = dataset["Translation"]
    keys = sorted(rows)
    updates = []
    for position in range(EDITS):
        key = keys[(number * EDITS + position) % len(keys)]
        row = rows[key]
        after = f"{row['en_text']} (rev {number})"
        rows[key] = {**row, "en_text": after}
        updates.append(
            RowUpdate({"id": row["id"]}, {"en_text": row["en_text"]}, {"en_text": after})
        )
    return updates


def _write_revision(versions: Path, dataset: Dataset, number: int, down: str) -> str:
    revision = f"history{number:05d}"
    changes = ChangeSet({"Translation": TableChanges(updates=_edits(dataset, number))})
    keys = primary_keys(metadata, SPEC.tables())
    text = render_revision(
        message=f"history revision {number}",
        revision=revision,
        down_revision=down,
        branch_labels=None,
        depends_on=(),
        create_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        changes=changes,
        sidecar=None,
        namer=RowNamer(SPEC, metadata, keys, dataset),
    )
    (versions / f"{revision}_history_{number}.py").write_text(text, encoding="utf-8")
    return revision


def _timed(project: Path, *arguments: str) -> Command:
    command = run_command([tool("seeds"), *arguments], project)
    if command.returncode != 0:
        raise RuntimeError(
            f"seeds {' '.join(arguments)} exited {command.returncode}:\n{command.output[-3000:]}"
        )
    return command


def _replay(project: Path) -> float:
    """CPU seconds of ``replay_branch`` in this process (the machine's other work stretches
    them less than wall time), the revisions' modules loaded afresh: what ``seeds check``
    replays, without its start-up and ``seeddata/``."""
    config = Config(str(project / "alembic.ini"))
    seeds = SeedsProject.from_config(config)
    keys = primary_keys(seeds.metadata, seeds.spec.tables())
    started = time.process_time()
    replay_branch(ScriptDirectory.from_config(config), seeds.branch, keys, seeds.metadata)
    return time.process_time() - started


def history_growth(project: Path, dataset: Dataset, scale: int, runs: int) -> list[HistoryResult]:
    """Grow the history of ``project`` (its import revision made, ``seeddata/`` holding
    ``dataset``) to each of ``REVISIONS`` and time the commands at each; ``dataset`` is
    left as the last revision leaves it."""
    versions = project / "data_migrations" / "versions"
    (imported,) = versions.glob("*.py")
    found = re.search(r'^revision: str = "(\w+)"', imported.read_text("utf-8"), re.MULTILINE)
    assert found is not None, f"no revision id in {imported}"
    head = found.group(1)
    cache = cache_folder(project / "migrations")
    results = []
    count = 1
    for wanted in REVISIONS:
        while count < wanted:
            count += 1
            head = _write_revision(versions, dataset, count, head)
        if count > 1:
            write_seeddata(project / "seeddata", SPEC, dataset)
        result = HistoryResult(scale, count)
        for _ in range(runs):
            shutil.rmtree(cache, ignore_errors=True)
            command = _timed(project, "check")
            result.cold.append(command.seconds)
            result.cold_cpu.append(command.cpu_seconds)
        for _ in range(runs):
            command = _timed(project, "check")
            result.warm.append(command.seconds)
            result.warm_cpu.append(command.cpu_seconds)
            result.warm_rss_mb = max(result.warm_rss_mb, command.max_rss_mb)
        for _ in range(runs):
            shutil.rmtree(cache, ignore_errors=True)
            result.replay_cold.append(_replay(project))
        for _ in range(runs):
            result.replay_warm.append(_replay(project))
        for _ in range(runs):
            command = _timed(project, "show", "seeds@head")
            result.show.append(command.seconds)
            result.show_cpu.append(command.cpu_seconds)
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/seeds-bench"))
    args = parser.parse_args(argv)
    dataset = generate(args.scale)
    project = make_project(args.workdir / f"history-x{args.scale}", dataset)
    autogenerate_revision(project)
    results = Results("", 0, [args.scale], {args.scale: args.runs}, 0.0)
    results.history = history_growth(project, dataset, args.scale, args.runs)
    print("\n".join(history_section(results)))
    shutil.rmtree(project, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
