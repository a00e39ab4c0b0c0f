"""The engine tests' own Alembic projects, frozen under ``tests/projects/``.

Engine tests never read the live project (its ``seeddata/`` and ``data_migrations/`` change
with every data pull request). They run on these fixture projects instead, each a complete
Alembic project with its own models, spec, schema revisions, data revisions and seed data:

- ``lumina``: a frozen copy of the Lumina project as it stood on 2026-11-28 (package
  ``frozen_lumina``; its first data revision imports 2,741 rows).
- ``geography``: countries, subdivisions within subdivisions (a reference to the same
  table), tags of subdivisions (an association table), cities and airports, under the spec
  derived from its tables (package ``geography_fixture``; no data revision yet).
- ``workshop``: tools, materials and what each tool is made of (package ``keyed_workshop``):
  an autoincrement integer key, an identity key and a composite key of two references. Its
  first data revision imports tools 1, 2 and 5, its second deletes tool 5 again.

A test that changes a project works on a copy (``copy_project``); the frozen folders are
only ever read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from alembic_seeds.migration.replay_cache import CACHE_FOLDER

#: The repository's root (its own ``alembic.ini`` is the live Lumina project).
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
#: Where the fixture projects live.
FIXTURE_PROJECTS = Path(__file__).resolve().parent / "projects"
#: The frozen Lumina project.
LUMINA = FIXTURE_PROJECTS / "lumina"
#: Its first (and only) data revision, which imports the whole reference data.
LUMINA_FIRST_REVISION = "3f0c2a1b9d47"
#: The geography fixture project.
GEOGRAPHY = FIXTURE_PROJECTS / "geography"
#: The workshop project, whose keys are integers and composite.
WORKSHOP = FIXTURE_PROJECTS / "workshop"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", ".seeds_cache")


def copy_project(
    root: Path,
    source: Path = LUMINA,
    *,
    data_revisions: bool = True,
    seeddata: bool = True,
) -> Path:
    """Copy the project ``source`` into ``root`` (created) and return ``root``.

    Without ``data_revisions`` the copy has an empty data revisions folder, without
    ``seeddata`` an empty ``seeddata/``: a project about to write its first data revision.
    """
    shutil.copytree(source, root, ignore=_IGNORED, dirs_exist_ok=True)
    if not data_revisions:
        versions = root / "data_migrations" / "versions"
        shutil.rmtree(versions)
        versions.mkdir()
    if not seeddata:
        shutil.rmtree(root / "seeddata")
        (root / "seeddata").mkdir()
    return root


def project_files(root: Path) -> dict[str, bytes]:
    """Every file of the project under ``root`` by its path there, its replay cache left
    out (a cache, not the project: what a command that "writes nothing" may still write)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and CACHE_FOLDER not in path.relative_to(root).parts
    }
