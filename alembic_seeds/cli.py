"""The ``seeds`` command: data revisions from ``seeddata/`` and checks around them."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from alembic.config import Config

from alembic_seeds.dataset.load import DatasetError, load_seeddata
from alembic_seeds.generate import autogenerate
from alembic_seeds.project import ProjectError, SeedsProject

#: Exit codes: 0 all is well, 1 a check found differences, 2 the command could not run.
EXIT_ERROR = 2


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
        except ProjectError as error:
            click.echo(f"error: {error}", err=True)
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
        raise ProjectError(f"{config_path}: no such file (use -c to name alembic.ini)")
    return SeedsProject.from_config(Config(str(config_path)))


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
    default=True,
    help="Take the change set from the difference between seeddata/ and the revisions.",
)
@click.option("--branch", default=None, help="Branch label (default: [seeds] branch).")
@click.option("--rev-id", default=None, help="Revision id to use instead of a random one.")
@click.pass_context
def revision(
    ctx: click.Context, message: str, autogenerate: bool, branch: str | None, rev_id: str | None
) -> None:
    """Write a data revision holding what seeddata/ changes."""
    if not autogenerate:
        raise click.UsageError("only --autogenerate revisions are supported")
    project = _project(ctx)
    generated = autogenerate_revision(project, message, branch, rev_id)
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


autogenerate_revision = autogenerate
