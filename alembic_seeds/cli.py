"""The ``seeds`` command line: click over ``commands.py``, nothing else.

Exit codes: 0 all is well, 1 a check found differences, 2 the command could not run (bad
seed data, bad configuration, unknown revision, database unreachable); errors are one line
each on stderr, never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from alembic_seeds import commands
from alembic_seeds.errors import DatasetError, SeedsError
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.initialize import (
    DEFAULT_BRANCH,
    DEFAULT_SEEDDATA,
    DEFAULT_VERSIONS,
    InitOptions,
)
from alembic_seeds.review.render import FORMATS, Format, first_line

#: Set to a non-empty value to get the traceback of an unexpected error.
TRACEBACK_ENV = "SEEDS_TRACEBACK"
DEFAULT_CONFIG = Path("alembic.ini")

F = TypeVar("F", bound=Callable[..., Any])


class SeedsGroup(click.Group):
    """Reports the known failures as one line each and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DatasetError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(error.problems)} problem(s) in seed data; nothing written", err=True)
            sys.exit(commands.EXIT_ERROR)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (SeedsError, CommandError, RevisionError) as error:
            _fail(str(error))
        except SQLAlchemyError as error:
            # Reached only outside the read-only connections (which word these themselves).
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
    sys.exit(commands.EXIT_ERROR)


#: Lines printed at once (one write per line would be slow, one for all would hold them all).
_PRINT_BATCH = 2000


def _finish(outcome: commands.Outcome) -> None:
    # Written in batches as the lines are made: a review of a first import is millions of
    # lines, never held whole.
    batch: list[str] = []
    for line in outcome.printed():
        batch.append(line)
        if len(batch) == _PRINT_BATCH:
            click.echo("\n".join(batch))
            batch.clear()
    if batch:
        click.echo("\n".join(batch))
    if outcome.error is not None:
        _fail(outcome.error)
    if outcome.exit_code:
        sys.exit(outcome.exit_code)


def config_option(f: F) -> F:
    """``-c/--config``, accepted before the command name and after it alike."""
    return click.option(
        "-c",
        "--config",
        "config_path",
        default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"The Alembic configuration file with a [seeds] section (default: {DEFAULT_CONFIG}).",
    )(f)


def _project(
    ctx: click.Context, config_path: Path | None, branch: str | None = None
) -> SeedsProject:
    chosen = config_path or ctx.obj or DEFAULT_CONFIG
    return commands.load_project(chosen, branch)


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull request comment.",
)
BRANCH_OPTION = click.option(
    "--branch", default=None, help="Data branch label (default: the [seeds] branch)."
)
MAX_ROWS_OPTION = click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    default=None,
    help="Rows listed per table (default: all in text, 50 in markdown; 0: all).",
)


@click.group(cls=SeedsGroup)
@config_option
@click.version_option(package_name="alembic-seeds")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Reference data as Alembic data migrations."""
    ctx.obj = config_path


@main.command()
@config_option
@click.option(
    "--metadata",
    default=None,
    help="The MetaData of your models, as package.module:attribute (myapp.models:Base.metadata).",
)
@click.option(
    "--seeddata",
    default=DEFAULT_SEEDDATA,
    show_default=True,
    help="The folder of the seed data (%(here)s: the folder of alembic.ini).",
)
@click.option(
    "--versions",
    default=DEFAULT_VERSIONS,
    show_default=True,
    help="The folder of the data revisions (added to version_locations).",
)
@click.option("--branch", default=DEFAULT_BRANCH, show_default=True, help="Their branch label.")
@click.pass_context
def init(
    ctx: click.Context,
    *,
    config_path: Path | None,
    metadata: str | None,
    seeddata: str,
    versions: str,
    branch: str,
) -> None:
    """Set up alembic-seeds in an existing Alembic project (what alembic init made).

    Adds what is missing, so running it again changes nothing: the [seeds] section, the data
    revisions' folder in version_locations, the alembic_seeds logger, the schema revision
    that creates the log table, and, in Alembic's generic env.py, the alembic-seeds calls
    (an env.py you changed is left alone: the lines to add are printed).
    """
    options = InitOptions(metadata=metadata, seeddata=seeddata, versions=versions, branch=branch)
    _finish(commands.init(config_path or ctx.obj or DEFAULT_CONFIG, options))


@main.command()
@config_option
@BRANCH_OPTION
@click.pass_context
def validate(ctx: click.Context, config_path: Path | None, branch: str | None) -> None:
    """Read and check seeddata/ without touching any database."""
    _finish(commands.validate(_project(ctx, config_path, branch)))


@main.command()
@config_option
@click.option("-m", "--message", required=True, help="What the change is, for people.")
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Accepted as Alembic spells it: data revisions are always generated from seeddata/.",
)
@BRANCH_OPTION
@click.option("--rev-id", default=None, help="Revision id to use instead of a random one.")
@click.pass_context
def revision(
    ctx: click.Context,
    *,
    config_path: Path | None,
    message: str,
    autogenerate: bool,
    branch: str | None,
    rev_id: str | None,
) -> None:
    """Write a data revision holding what seeddata/ changes against the revisions."""
    del autogenerate  # the only kind of data revision there is
    _finish(commands.revision(_project(ctx, config_path, branch), message, rev_id))


@main.command()
@config_option
@click.argument("rev")
@FORMAT_OPTION
@MAX_ROWS_OPTION
@click.pass_context
def show(
    ctx: click.Context,
    config_path: Path | None,
    rev: str,
    output_format: Format,
    max_rows: int | None,
) -> None:
    """Show the change set of the data revision REV (an id, a prefix, seeds@head, ...)."""
    _finish(commands.show(_project(ctx, config_path), rev, output_format, max_rows))


@main.command("diff")
@config_option
@click.option("--db", is_flag=True, help="Compare with the database named by DATABASE_URL.")
@FORMAT_OPTION
@BRANCH_OPTION
@MAX_ROWS_OPTION
@click.pass_context
def diff_command(
    ctx: click.Context,
    *,
    config_path: Path | None,
    db: bool,
    output_format: Format,
    branch: str | None,
    max_rows: int | None,
) -> None:
    """Show what seeddata/ changes against the last data revision (or the database).

    Informational: exits 0 with or without changes (see `seeds check` for a gate).
    """
    project = _project(ctx, config_path, branch)
    _finish(commands.diff(project, db=db, output_format=output_format, max_rows=max_rows))


@main.command()
@config_option
@click.option(
    "--db",
    is_flag=True,
    help="Also check the database named by DATABASE_URL: applied revisions unchanged, no drift.",
)
@BRANCH_OPTION
@click.pass_context
def check(ctx: click.Context, config_path: Path | None, db: bool, branch: str | None) -> None:
    """Exit 1 when seeddata/ holds changes no revision captures (and, with --db, when the
    database's applied revisions were edited or its rows drifted from them)."""
    _finish(commands.check(_project(ctx, config_path, branch), db=db))


@main.command()
@config_option
@click.option("--force", is_flag=True, help="Write even into a seeddata/ that has files.")
@click.pass_context
def dump(ctx: click.Context, config_path: Path | None, force: bool) -> None:
    """Write seeddata/ from the seeded tables of the database (DATABASE_URL); reads only."""
    _finish(commands.dump(_project(ctx, config_path), force=force))


@main.command()
@config_option
@click.pass_context
def history(ctx: click.Context, config_path: Path | None) -> None:
    """List the data revisions applied to the database (DATABASE_URL), newest last."""
    _finish(commands.history(_project(ctx, config_path)))
