"""What each ``seeds`` command does, callable from code and tests (``cli.py`` is click over it).

Every command takes the project (``load_project``) and its options, and returns an
``Outcome``: the lines it prints, its exit code, and the error that stopped it, if any.
Errors that stop a command before it found anything are raised as ``SeedsError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic_seeds.changes.changeset import ChangeSet
from alembic_seeds.dataset.load import load_seeddata, primary_keys
from alembic_seeds.errors import ChangeSetError, ConfigError
from alembic_seeds.migration.autogenerate import Pending, autogenerate, pending_changes
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
    utc,
)
from alembic_seeds.review.checks import history as read_history
from alembic_seeds.review.render import (
    Format,
    Header,
    RowNamer,
    drift_lines,
    first_line,
    render,
    render_text,
    table_summary,
    total_counts,
)

#: Exit codes: 0 all is well, 1 a check found differences, 2 the command could not run.
EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_ERROR = 2


@dataclass
class Outcome:
    """What a command printed, how it exits, and (exit code 2) the error that stopped it."""

    lines: list[str] = field(default_factory=list)
    exit_code: int = EXIT_OK
    error: str | None = None

    def say(self, text: str = "") -> None:
        """Add ``text`` (one line, or a block ending in a newline)."""
        self.lines.extend(text.splitlines() if text else [""])

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
    """Read and check seeddata/ of the project's branch without touching any database."""
    loaded = load_seeddata(
        project.seeddata, project.spec, project.metadata, base=project.base_seeddata
    )
    total = sum(len(rows) for rows in loaded.rows.values())
    outcome = Outcome()
    outcome.say(f"seeddata is valid: {total} rows in {len(loaded.rows)} tables")
    return outcome


def revision(project: SeedsProject, message: str, rev_id: str | None = None) -> Outcome:
    """Write a data revision holding what seeddata/ changes."""
    outcome = Outcome()
    generated = autogenerate(project, message, revision=rev_id)
    if generated is None:
        outcome.say(
            "No changes in seeddata/ that the revisions do not already hold; nothing written."
        )
        return outcome
    outcome.say(f"Generated {generated.path}")
    if generated.sidecar is not None:
        outcome.say(f"  with its change set in {generated.sidecar}")
    for table, counts in generated.changes.counts().items():
        outcome.say(f"  {table}: +{counts['inserted']} ~{counts['updated']} -{counts['deleted']}")
    if generated.assigned_ids:
        outcome.say(
            f"Gave ids to {generated.assigned_ids} new row(s) and wrote them into seeddata/"
        )
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
    outcome.say(render(changes, namer, output_format, header, max_rows))
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
            facts=(("last revision", _head(project)), ("changes", _change_count(changes))),
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
    try:
        pending = pending_changes(project)
    except ChangeSetError as error:
        # With db, go on: the database check may tell which revision was edited.
        errors.append(f"the data revisions of branch {project.branch} do not replay: {error}")
    else:
        if pending.changes:
            problems.append("seeddata/ holds changes that no data revision captures")
            _report_pending(outcome, project, pending)
        else:
            outcome.say(
                "seeddata/: every change is captured by the data revisions of branch "
                f"{project.branch} (last: {_head(project)})."
            )
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
        totals = {
            word: sum(counts.get(word, 0) for counts in entry.counts.values())
            for word in ("inserted", "updated", "deleted")
        }
        outcome.say(
            f"{utc(entry.applied_at):%Y-%m-%d %H:%M:%S}  {entry.revision:<12}  "
            f"{entry.direction:<9}  {totals['inserted']:>8}  {totals['updated']:>8}  "
            f"{totals['deleted']:>8}  {entry.duration_ms:>11.0f}"
        )
    return outcome


# ---------------------------------------------------------------------------------------
# What the commands share.


def project_database_url(project: SeedsProject) -> str:
    """The database as Alembic's env.py finds it: ``DATABASE_URL``, else ``sqlalchemy.url``."""
    return database_url(project.config)


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


def _head(project: SeedsProject) -> str:
    """The last data revision of the project's branch, for people."""
    found = data_revisions(_scripts(project), project.branch)
    if not found:
        return "none yet"
    script = found[-1][0]
    return f"{script.revision} ({_message(script.doc)})"


def _change_count(changes: ChangeSet) -> str:
    """``3 changes (1 inserted, 2 updated)``."""
    size = changes.size
    text = f"{size} change{'s' if size != 1 else ''}"
    return f"{text} ({table_summary(total_counts(changes))})" if size else text
