"""What each ``seeds`` command does, callable from code and tests (``cli.py`` is click over it).

Every command takes the project (``load_project``) and its options, and returns an
``Outcome``: the lines it prints, its exit code, and the error that stopped it, if any.
Errors that stop a command before it found anything are raised as ``SeedsError``.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from alembic_seeds.changes.changeset import ChangeSet, Dataset, sum_counts
from alembic_seeds.changes.changeset import diff as diff_datasets
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.dataset.load import load_seeddata, primary_keys
from alembic_seeds.dataset.write import render_seeddata, write_seeddata
from alembic_seeds.errors import ChangeSetError, ConfigError, DatasetError, Problem, SeedsError
from alembic_seeds.migration.autogenerate import (
    Pending,
    autogenerate,
    pending_changes,
    previous_state,
)
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.database import database_url, shown_url
from alembic_seeds.migration.initialize import InitOptions, initialize
from alembic_seeds.migration.log import LOG_TABLE
from alembic_seeds.migration.replay import (
    branch_labels,
    data_revisions,
    resolve_data_revision,
    states_around,
)
from alembic_seeds.review.checks import (
    DatabaseCheck,
    check_database,
    database_diff,
    database_rows,
    utc,
)
from alembic_seeds.review.checks import history as read_history
from alembic_seeds.review.render import (
    Format,
    Header,
    drift_lines,
    first_line,
    render,
    render_lines,
    render_text,
    table_summary,
)

#: Exit codes: 0 all is well, 1 a check found differences, 2 the command could not run.
EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_ERROR = 2


@dataclass
class Outcome:
    """What a command printed, how it exits, and (exit code 2) the error that stopped it."""

    exit_code: int = EXIT_OK
    error: str | None = None
    _said: list[str] = field(default_factory=list)
    #: Lines made only as they are printed, after those said: a review of millions of rows
    #: is never held whole in memory.
    _streamed: Iterable[str] = ()

    def say(self, text: str = "") -> None:
        """Add ``text`` (one line, or a block ending in a newline)."""
        self.lines.extend(text.splitlines() if text else [""])

    def stream(self, lines: Iterable[str]) -> None:
        """Add ``lines``, made as they are printed."""
        self._streamed = itertools.chain(self._streamed, lines)

    @property
    def lines(self) -> list[str]:
        """Every line (those streamed are made now and kept: reading it twice is the same)."""
        if self._streamed:
            self._said.extend(self._streamed)
            self._streamed = ()
        return self._said

    def printed(self) -> Iterator[str]:
        """Every line, once: those said, then those streamed as they are made."""
        yield from self._said
        yield from self._streamed
        self._streamed = ()

    @property
    def output(self) -> str:
        return "".join(f"{line}\n" for line in self.lines)


def load_project(config_path: Path, branch: str | None = None) -> SeedsProject:
    """The project that ``config_path`` (an ``alembic.ini``) describes, for ``branch``."""
    if not config_path.exists():
        raise ConfigError(f"{config_path}: no such file (use -c to name alembic.ini)")
    return SeedsProject.from_config(Config(str(config_path)), branch)


# ---------------------------------------------------------------------------------------
# Commands.


def init(config_path: Path, options: InitOptions) -> Outcome:
    """Set up alembic-seeds in the Alembic project of ``config_path`` (what is missing only)."""
    report = initialize(config_path, options)
    outcome = Outcome()
    for line in report.done:
        outcome.say(line)
    for text in report.todo:
        outcome.say(text)
    if not report.done and not report.todo:
        outcome.say(f"{config_path}: already set up for alembic-seeds; nothing changed.")
    elif report.done:
        outcome.say(
            "Next: put the reference data in the seeddata folder, then "
            '`seeds revision --autogenerate -m "..."` and `alembic upgrade heads`.'
        )
    return outcome


def validate(project: SeedsProject) -> Outcome:
    """Read and check seeddata/ of the project's branch without touching any database.

    Texts edited in one of their places and rows referred to by an old label are explained
    (the data revisions, replayed offline, tell them apart from mistakes), not refused.
    """
    loaded = load_seeddata(
        project.seeddata,
        project.spec,
        project.metadata,
        base=project.base_seeddata,
        previous=lambda: _previous_or_none(project),
    )
    total = sum(len(rows) for rows in loaded.rows.values())
    outcome = Outcome()
    # An environment branch's rows are judged on top of the default branch's: name both.
    bases = ", ".join(_shown_folder(project, base) for base in project.base_seeddata)
    valid = (
        f"{_shown_folder(project, project.seeddata)} (on top of {bases})" if bases else "seeddata"
    )
    outcome.say(f"{valid} is valid: {total} rows in {len(loaded.rows)} tables")
    for edit in loaded.text_edits:
        outcome.say(edit.explain())
    for rename in loaded.renames:
        outcome.say(rename.explain())
    return outcome


def _previous_or_none(project: SeedsProject) -> Dataset | None:
    """The state the data revisions produce; None when they cannot be replayed (validate
    then judges seeddata/ on its own, and ``seeds check`` reports why)."""
    try:
        return previous_state(project, _scripts(project))
    except (SeedsError, CommandError):
        return None


def revision(project: SeedsProject, message: str, rev_id: str | None = None) -> Outcome:
    """Write a data revision holding what seeddata/ changes."""
    outcome = Outcome()
    generated = autogenerate(project, message, revision=rev_id)
    folder = _shown_folder(project, project.seeddata)
    if generated is None:
        outcome.say(
            f"No changes in {folder} that the revisions do not already hold; nothing written."
        )
        return outcome
    outcome.say(f"Generated {generated.path}")
    if generated.sidecar is not None:
        outcome.say(f"  with its change set in {generated.sidecar}")
    for table, counts in generated.changes.counts().items():
        outcome.say(f"  {table}: +{counts['inserted']} ~{counts['updated']} -{counts['deleted']}")
    if generated.assigned_ids:
        total = sum(generated.assigned_ids.values())
        outcome.say(
            f"Gave ids to {total} new {'row' if total == 1 else 'rows'} and wrote "
            f"{'it' if total == 1 else 'them'} into {_shown_folder(project, generated.seeddata)}:"
        )
        for table, count in generated.assigned_ids.items():
            outcome.say(f"  {table}: {count}")
    for edit in generated.text_edits:
        outcome.say(edit.report())
    for rename in generated.renames:
        outcome.say(rename.report())
    return outcome


def show(
    project: SeedsProject, rev: str, output_format: Format = "text", max_rows: int | None = None
) -> Outcome:
    """The change set of the data revision ``rev`` (an id, a prefix, ``seeds@head``, ...)."""
    scripts = _scripts(project)
    script, data = resolve_data_revision(scripts, rev)
    keys = _keys(project)
    # Labels come from the state before the revision (current) and after it (desired).
    states = states_around(scripts, keys, script.revision)
    changes = data.change_set()
    namer = RowNamer(project.spec, project.metadata, keys, states.after, states.before)
    branch = ", ".join(branch_labels(scripts, script)) or "(none)"
    down = script.down_revision
    if down is None:
        down_text = f"none (first data revision of branch {branch})"
    else:
        down_text = down if isinstance(down, str) else ", ".join(down)
    header = Header(
        title=f"Data revision {script.revision}: {_message(script.doc)}",
        facts=(
            ("revision", script.revision),
            ("message", _message(script.doc)),
            ("down revision", down_text),
            ("branch", branch),
            ("changes", _change_count(changes)),
        ),
    )
    outcome = Outcome()
    outcome.stream(render_lines(changes, namer, output_format, header, max_rows))
    return outcome


def diff(
    project: SeedsProject,
    *,
    db: bool = False,
    output_format: Format = "text",
    max_rows: int | None = None,
) -> Outcome:
    """What seeddata/ changes against the last data revision (or, ``db``, the database).

    Informational: exit code 0 with or without changes (``check`` is the gate).
    """
    keys = _keys(project)
    if db:
        url = project_database_url(project)
        found = database_diff(project, url)
        changes, desired, current = found.changes, found.desired, found.current
        header = Header(
            title="seeddata/ against the database",
            facts=(("database", shown_url(url)), ("changes", _change_count(changes))),
        )
    else:
        pending = pending_changes(project)
        changes, desired, current = pending.changes, pending.context, pending.current
        header = Header(
            title=f"seeddata/ against the data revisions of branch {project.branch}",
            facts=(
                ("last revision", _head(pending.scripts, project.branch)),
                ("changes", _change_count(changes)),
            ),
        )
    namer = RowNamer(project.spec, project.metadata, keys, desired, current)
    outcome = Outcome()
    outcome.say(render(changes, namer, output_format, header, max_rows))
    return outcome


def check(project: SeedsProject, *, db: bool = False) -> Outcome:
    """Exit code 1 when seeddata/ holds changes no revision captures (and, with ``db``, when
    the database's applied revisions were edited or its rows drifted from them)."""
    outcome = Outcome()
    problems: list[str] = []
    errors: list[str] = []
    # Its own function: the rows of seeddata/ and its replayed state are let go of before
    # the database is read, so that the two checks never hold theirs at once.
    _check_seeddata(project, outcome, problems, errors)
    if db:
        result = check_database(project, project_database_url(project))
        _report_database(outcome, project, result)
        if result.edited:
            problems.append("applied revisions were edited")
        if result.drift is not None and result.drift.changes:
            problems.append("the database drifted from its applied revisions")
        if result.replay_error is not None:
            errors.append(f"the applied data revisions do not replay: {result.replay_error}")
    if errors:
        outcome.exit_code = EXIT_ERROR
        outcome.error = errors[0]
    elif problems:
        outcome.say(f"check failed: {'; '.join(problems)}")
        outcome.exit_code = EXIT_DIFFERENCES
    else:
        outcome.say("check passed")
    return outcome


def _check_seeddata(
    project: SeedsProject, outcome: Outcome, problems: list[str], errors: list[str]
) -> None:
    try:
        pending = pending_changes(project)
    except ChangeSetError as error:
        # With db, go on: the database check may tell which revision was edited.
        errors.append(f"the data revisions of branch {project.branch} do not replay: {error}")
        return
    if pending.changes:
        problems.append("seeddata/ holds changes that no data revision captures")
        _report_pending(outcome, project, pending)
    else:
        outcome.say(
            "seeddata/: every change is captured by the data revisions of branch "
            f"{project.branch} (last: {_head(pending.scripts, project.branch)})."
        )
    if pending.losses:
        problems.append("schema revisions drop seeded values")
        for loss in pending.losses:
            outcome.say(str(loss))


def history(project: SeedsProject) -> Outcome:
    """The data revisions applied to the database, from the log table, newest last."""
    url = project_database_url(project)
    outcome = Outcome()
    found = read_history(url)
    if found is None:
        outcome.say(
            f"database {shown_url(url)} has no {LOG_TABLE} table: no data revision was applied "
            "to it (alembic upgrade heads)"
        )
        return outcome
    if not found:
        outcome.say(f"database {shown_url(url)}: {LOG_TABLE} has no entries yet")
        return outcome
    outcome.say(
        f"{'applied at (UTC)':<19}  {'revision':<12}  {'direction':<9}  {'inserted':>8}  "
        f"{'updated':>8}  {'deleted':>8}  {'duration ms':>11}"
    )
    for entry in found:
        totals = sum_counts(entry.counts.values())
        outcome.say(
            f"{utc(entry.applied_at):%Y-%m-%d %H:%M:%S}  {entry.revision:<12}  "
            f"{entry.direction:<9}  {totals['inserted']:>8}  {totals['updated']:>8}  "
            f"{totals['deleted']:>8}  {entry.duration_ms:>11.0f}"
        )
    return outcome


def dump(project: SeedsProject, *, force: bool = False) -> Outcome:
    """Write seeddata/ from the seeded tables of the database, references by label.

    What it writes holds the database's rows exactly (it is read back and compared before
    anything is written), so that the first revision generated from it recreates them on an
    empty database and adopts them, writing nothing, on the database they came from. It
    writes only into a folder without files, unless ``force``.
    """
    outcome = Outcome()
    folder = project.seeddata
    existing = sorted(path for path in folder.rglob("*") if path.is_file())
    if existing and not force:
        outcome.exit_code = EXIT_ERROR
        outcome.error = (
            f"{folder} already has {len(existing)} file(s) ({existing[0].relative_to(folder)}, "
            "...): seeds dump writes only into an empty seeddata/ (--force overwrites them)"
        )
        return outcome
    url = project_database_url(project)
    rows = database_rows(project, url)
    files = render_seeddata(project.spec, rows)
    differences = _dump_differences(project, files, rows)
    if differences:
        outcome.lines.extend(differences)
        outcome.exit_code = EXIT_ERROR
        outcome.error = (
            "the spec cannot write the database's rows as they are (see above); nothing was written"
        )
        return outcome
    write_seeddata(folder, project.spec, rows)
    total = sum(len(table_rows) for table_rows in rows.values())
    outcome.say(
        f"Wrote {len(files)} file(s) of {folder} from database {shown_url(url)}: "
        f"{total} rows of {len(rows)} tables"
    )
    for path, text in files.items():
        lines = text.count("\n")
        outcome.say(f"  {path}  {lines} {'line' if lines == 1 else 'lines'}")
    outcome.say(
        'Next: seeds revision --autogenerate -m "..." captures them in a data revision '
        "(the database they came from adopts its rows as they are)."
    )
    return outcome


def _dump_differences(project: SeedsProject, files: dict[str, str], rows: Dataset) -> list[str]:
    """What reading ``files`` back would not give as ``rows`` (empty: nothing)."""
    with tempfile.TemporaryDirectory(prefix="seeds-dump-") as scratch:
        folder = Path(scratch)
        for path, text in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text, encoding="utf-8")
        try:
            loaded = load_seeddata(folder, project.spec, project.metadata)
        except DatasetError as error:
            # Named as the files would be named once written.
            raise DatasetError(
                Problem(
                    f"{project.seeddata}/{problem.path.partition(folder.name + '/')[2]}",
                    problem.line,
                    problem.rule,
                    problem.detail,
                )
                for problem in error.problems
            ) from None
    changes = diff_datasets(loaded.rows, rows, _keys(project))
    lines = []
    for table, table_changes in changes.tables.items():
        parts = []
        if table_changes.deletes:
            parts.append(f"{_rows(len(table_changes.deletes))} would be left out")
        if table_changes.updates:
            columns = sorted({c for update in table_changes.updates for c in update.after})
            parts.append(
                f"{_rows(len(table_changes.updates))} would differ in {', '.join(columns)}"
            )
        if table_changes.inserts:
            parts.append(f"{_rows(len(table_changes.inserts))} would be added")
        lines.append(f"  {table}: read back from seeddata/, {'; '.join(parts)}")
    return lines


# ---------------------------------------------------------------------------------------
# What the commands share.


def project_database_url(project: SeedsProject) -> str:
    """The database as Alembic's env.py finds it: ``DATABASE_URL``, else ``sqlalchemy.url``."""
    return database_url(project.config)


def _shown_folder(project: SeedsProject, folder: Path) -> str:
    """``folder`` as people know it: relative to the folder of ``alembic.ini``, with a slash."""
    config_file = project.config.config_file_name
    if config_file is not None:
        try:
            return f"{folder.resolve().relative_to(Path(config_file).resolve().parent)}/"
        except ValueError:
            pass
    return f"{folder}/"


def _report_pending(outcome: Outcome, project: SeedsProject, pending: Pending) -> None:
    outcome.say(
        f"seeddata/ holds {_change_count(pending.changes)} that no data revision of "
        f"branch {project.branch} captures:"
    )
    namer = RowNamer(project.spec, project.metadata, pending.keys, pending.context, pending.current)
    outcome.say(render_text(pending.changes, namer))
    outcome.say('Run `seeds revision --autogenerate -m "..."` to capture them in a data revision.')


def _report_database(outcome: Outcome, project: SeedsProject, result: DatabaseCheck) -> None:
    applied = ", ".join(result.applied) if result.applied else "none"
    outcome.say(
        f"database {result.url}: at {', '.join(result.heads) or 'no revision'}; "
        f"data revisions applied: {applied}"
    )
    if result.pending:
        outcome.say(f"note: not applied to it yet: {', '.join(result.pending)}")
    for edited in result.edited:
        outcome.say(
            f"revision {edited.revision} was edited after it was applied: its change set's "
            f"checksum is {edited.current_checksum}, it was {edited.applied_checksum} when "
            f"applied at {utc(edited.applied_at):%Y-%m-%d %H:%M:%S} UTC"
        )
    for revision_id in result.unlogged:
        outcome.say(
            f"note: revision {revision_id} is applied but {LOG_TABLE} has no upgrade of it: "
            "its checksum cannot be compared"
        )
    if result.replay_error is not None:
        outcome.say("database: no drift check, the applied revisions do not replay")
        return
    drift = result.drift
    if drift is None or not drift.changes:
        outcome.say("database: no drift, every seeded row is as the applied revisions left it.")
        return
    rows = drift.changes.size
    outcome.say(
        f"drift: {rows} {'rows' if rows != 1 else 'row'} of the database "
        f"{'differ' if rows != 1 else 'differs'} from what the applied revisions produce "
        "(nothing was written):"
    )
    if result.edited:
        outcome.say("  (expected values are those of the revisions as they are now)")
    namer = RowNamer(project.spec, project.metadata, drift.keys, drift.expected, drift.database)
    for line in drift_lines(drift.changes, namer, drift.writer):
        outcome.say(line)


def _scripts(project: SeedsProject) -> ScriptDirectory:
    return ScriptDirectory.from_config(project.config)


def _keys(project: SeedsProject) -> dict[str, tuple[str, ...]]:
    return primary_keys(project.metadata, project.spec.tables())


def _message(doc: str | None) -> str:
    return first_line(doc or "") or "(no message)"


def _head(scripts: ScriptDirectory, branch: str) -> str:
    """The last data revision of ``branch``, for people (``scripts``: those already
    loaded, as loading them again is what a long history makes slow)."""
    found = data_revisions(scripts, branch)
    if not found:
        return "none yet"
    script = found[-1][0]
    return f"{script.revision} ({_message(script.doc)})"


def _rows(count: int) -> str:
    return f"{count} row{'s' if count != 1 else ''}"


def _change_count(changes: ChangeSet) -> str:
    """``3 changes (1 inserted, 2 updated)``."""
    size = changes.size
    text = f"{size} change{'s' if size != 1 else ''}"
    return f"{text} ({table_summary(changes.totals())})" if size else text
