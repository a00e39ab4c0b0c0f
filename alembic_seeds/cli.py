"""The ``seeds`` command: data revisions from ``seeddata/`` and checks around them.

A thin layer over ``generate`` (revisions), ``render`` (change sets for people) and
``inspect`` (database-side checks). Exit codes: 0 all is well, 1 a check found
differences, 2 the command could not run (bad seed data, bad configuration, unknown
revision, database unreachable); errors are one line each on stderr, never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from alembic_seeds.changes.changeset import ChangeSet
from alembic_seeds.dataset.load import load_seeddata, primary_keys
from alembic_seeds.errors import ChangeSetError, ConfigError, DatasetError, SeedsError
from alembic_seeds.migration.autogenerate import Pending, autogenerate, pending_changes
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.environment import database_url
from alembic_seeds.migration.log import LOG_TABLE
from alembic_seeds.migration.replay import (
    branch_labels,
    data_revisions,
    resolve_data_revision,
    states_around,
)
from alembic_seeds.review.checks import DatabaseCheck, check_database, database_diff, shown_url, utc
from alembic_seeds.review.checks import history as read_history
from alembic_seeds.review.render import (
    FORMATS,
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
EXIT_DIFFERENCES = 1
EXIT_ERROR = 2
#: Set to a non-empty value to get the traceback of an unexpected error.
TRACEBACK_ENV = "SEEDS_TRACEBACK"


class SeedsGroup(click.Group):
    """Reports the known failures as one line each and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DatasetError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(error.problems)} problem(s) in seed data; nothing written", err=True)
            sys.exit(EXIT_ERROR)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (SeedsError, CommandError, RevisionError) as error:
            _fail(str(error))
        except SQLAlchemyError as error:
            # Reached only outside inspect.read_only (which words these itself): no URL here.
            _fail(f"database: {type(error).__name__}: {first_line(str(error))}")
        except OSError as error:
            _fail(str(error))
        except Exception as error:
            if os.environ.get(TRACEBACK_ENV):
                raise
            _fail(
                f"unexpected {type(error).__name__}: {first_line(str(error))} "
                f"(set {TRACEBACK_ENV}=1 to see where)"
            )


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {first_line(message) or 'failed'}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(cls=SeedsGroup)
@click.option(
    "-c",
    "--config",
    "config_path",
    default="alembic.ini",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The Alembic configuration file whose [seeds] section describes the seed data.",
)
@click.version_option(package_name="alembic-seeds")
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """Reference data as Alembic data migrations."""
    ctx.obj = config_path


def _project(ctx: click.Context) -> SeedsProject:
    config_path: Path = ctx.obj
    if not config_path.exists():
        raise ConfigError(f"{config_path}: no such file (use -c to name alembic.ini)")
    return SeedsProject.from_config(Config(str(config_path)))


def _scripts(project: SeedsProject) -> ScriptDirectory:
    return ScriptDirectory.from_config(project.config)


def _database_url(project: SeedsProject) -> str:
    """The database as Alembic's env.py finds it: DATABASE_URL, else the default file."""
    return database_url(project.config.config_file_name)


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull request comment.",
)
BRANCH_OPTION = click.option(
    "--branch", default=None, help="Data branch label (default: [seeds] branch)."
)
MAX_ROWS_OPTION = click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    default=None,
    help="Rows listed per table (default: all in text, 50 in markdown; 0: all).",
)


@main.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Read and check seeddata/ without touching any database."""
    project = _project(ctx)
    loaded = load_seeddata(project.seeddata, project.spec, project.metadata)
    total = sum(len(rows) for rows in loaded.rows.values())
    click.echo(f"seeddata is valid: {total} rows in {len(loaded.rows)} tables")


@main.command()
@click.option("-m", "--message", required=True, help="What the change is, for people.")
@click.option(
    "--autogenerate/--no-autogenerate",
    "from_seeddata",
    default=True,
    help="Take the change set from the difference between seeddata/ and the revisions.",
)
@click.option("--branch", default=None, help="Branch label (default: [seeds] branch).")
@click.option("--rev-id", default=None, help="Revision id to use instead of a random one.")
@click.pass_context
def revision(
    ctx: click.Context, message: str, from_seeddata: bool, branch: str | None, rev_id: str | None
) -> None:
    """Write a data revision holding what seeddata/ changes."""
    if not from_seeddata:
        raise click.UsageError("only --autogenerate revisions are supported")
    project = _project(ctx)
    generated = autogenerate(project, message, branch, rev_id)
    if generated is None:
        click.echo(
            "No changes in seeddata/ that the revisions do not already hold; nothing written."
        )
        return
    click.echo(f"Generated {generated.path}")
    if generated.sidecar is not None:
        click.echo(f"  with its change set in {generated.sidecar}")
    for table, counts in generated.changes.counts().items():
        click.echo(f"  {table}: +{counts['inserted']} ~{counts['updated']} -{counts['deleted']}")
    if generated.assigned_ids:
        click.echo(f"Gave ids to {generated.assigned_ids} new row(s) and wrote them into seeddata/")


@main.command()
@click.argument("rev")
@FORMAT_OPTION
@MAX_ROWS_OPTION
@click.pass_context
def show(ctx: click.Context, rev: str, output_format: Format, max_rows: int | None) -> None:
    """Show the change set of the data revision REV (an id, a prefix, seeds@head, ...)."""
    project = _project(ctx)
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
    click.echo(render(changes, namer, output_format, header, max_rows), nl=False)


@main.command("diff")
@click.option("--db", is_flag=True, help="Compare with the database named by DATABASE_URL.")
@FORMAT_OPTION
@BRANCH_OPTION
@MAX_ROWS_OPTION
@click.pass_context
def diff_command(
    ctx: click.Context,
    db: bool,
    output_format: Format,
    branch: str | None,
    max_rows: int | None,
) -> None:
    """Show what seeddata/ changes against the last data revision (or the database).

    Informational: exits 0 with or without changes (see `seeds check` for a gate).
    """
    project = _project(ctx).for_branch(branch)
    keys = _keys(project)
    if db:
        url = _database_url(project)
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
    click.echo(render(changes, namer, output_format, header, max_rows), nl=False)


@main.command()
@click.option(
    "--db",
    is_flag=True,
    help="Also check the database named by DATABASE_URL: applied revisions unchanged, no drift.",
)
@BRANCH_OPTION
@click.pass_context
def check(ctx: click.Context, db: bool, branch: str | None) -> None:
    """Exit 1 when seeddata/ holds changes no revision captures (and, with --db, when the
    database's applied revisions were edited or its rows drifted from them)."""
    project = _project(ctx).for_branch(branch)
    problems: list[str] = []
    errors: list[str] = []
    try:
        pending = pending_changes(project)
    except ChangeSetError as error:
        # With --db, go on: the database check may tell which revision was edited.
        errors.append(f"the data revisions of branch {project.branch} do not replay: {error}")
    else:
        if pending.changes:
            problems.append("seeddata/ holds changes that no data revision captures")
            _report_pending(project, pending)
        else:
            click.echo(
                "seeddata/: every change is captured by the data revisions of branch "
                f"{project.branch} (last: {_head(project)})."
            )
    if db:
        result = check_database(project, _database_url(project))
        _report_database(project, result)
        if result.edited:
            problems.append("applied revisions were edited")
        if result.drift is not None and result.drift.changes:
            problems.append("the database drifted from its applied revisions")
        if result.replay_error is not None:
            errors.append(f"the applied data revisions do not replay: {result.replay_error}")
    if errors:
        _fail(errors[0])
    if problems:
        click.echo(f"check failed: {'; '.join(problems)}")
        ctx.exit(EXIT_DIFFERENCES)
    click.echo("check passed")


def _report_pending(project: SeedsProject, pending: Pending) -> None:
    click.echo(
        f"seeddata/ holds {_change_count(pending.changes)} that no data revision of "
        f"branch {project.branch} captures:"
    )
    namer = RowNamer(project.spec, project.metadata, pending.keys, pending.context, pending.current)
    click.echo(render_text(pending.changes, namer), nl=False)
    click.echo('Run `seeds revision --autogenerate -m "..."` to capture them in a data revision.')


def _report_database(project: SeedsProject, result: DatabaseCheck) -> None:
    """Print what ``check --db`` found."""
    applied = ", ".join(result.applied) if result.applied else "none"
    click.echo(
        f"database {result.url}: at {', '.join(result.heads) or 'no revision'}; "
        f"data revisions applied: {applied}"
    )
    if result.pending:
        click.echo(f"note: not applied to it yet: {', '.join(result.pending)}")
    for edited in result.edited:
        click.echo(
            f"revision {edited.revision} was edited after it was applied: its change set's "
            f"checksum is {edited.current_checksum}, it was {edited.applied_checksum} when "
            f"applied at {utc(edited.applied_at):%Y-%m-%d %H:%M:%S} UTC"
        )
    for revision in result.unlogged:
        click.echo(
            f"note: revision {revision} is applied but {LOG_TABLE} has no upgrade of it: "
            "its checksum cannot be compared"
        )
    if result.replay_error is not None:
        click.echo("database: no drift check, the applied revisions do not replay")
        return
    drift = result.drift
    if drift is None or not drift.changes:
        click.echo("database: no drift, every seeded row is as the applied revisions left it.")
        return
    rows = drift.changes.size
    click.echo(
        f"drift: {rows} {'rows' if rows != 1 else 'row'} of the database "
        f"{'differ' if rows != 1 else 'differs'} from what the applied revisions produce "
        "(nothing was written):"
    )
    if result.edited:
        click.echo("  (expected values are those of the revisions as they are now)")
    namer = RowNamer(project.spec, project.metadata, drift.keys, drift.expected, drift.database)
    for line in drift_lines(drift.changes, namer, drift.writer):
        click.echo(line)


@main.command()
@click.pass_context
def history(ctx: click.Context) -> None:
    """List the data revisions applied to the database (DATABASE_URL), newest last."""
    project = _project(ctx)
    url = _database_url(project)
    found = read_history(url)
    if found is None:
        click.echo(
            f"database {shown_url(url)} has no {LOG_TABLE} table: no data revision was applied "
            "to it (alembic upgrade heads)"
        )
        return
    if not found:
        click.echo(f"database {shown_url(url)}: {LOG_TABLE} has no entries yet")
        return
    click.echo(
        f"{'applied at (UTC)':<19}  {'revision':<12}  {'direction':<9}  {'inserted':>8}  "
        f"{'updated':>8}  {'deleted':>8}  {'duration ms':>11}"
    )
    for entry in found:
        totals = {
            word: sum(counts.get(word, 0) for counts in entry.counts.values())
            for word in ("inserted", "updated", "deleted")
        }
        click.echo(
            f"{utc(entry.applied_at):%Y-%m-%d %H:%M:%S}  {entry.revision:<12}  "
            f"{entry.direction:<9}  {totals['inserted']:>8}  {totals['updated']:>8}  "
            f"{totals['deleted']:>8}  {entry.duration_ms:>11.0f}"
        )


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
