"""The ``[seeds]`` section of ``alembic.ini``: where a project keeps its seed data.

``spec = package.module:NAME`` names how ``seeddata/`` files map onto tables; without it, the
spec is derived from the metadata (of the tables named by ``tables = ...``, or all of them).
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.config import Config

from alembic_seeds.errors import ConfigError

if TYPE_CHECKING:
    from alembic_seeds.dataset.spec import SeedSpec

SECTION = "seeds"


@dataclass(frozen=True)
class SeedsProject:
    """The seed data of one branch of data revisions, and where its revisions go.

    The ``[seeds]`` section describes the default branch. A branch for data wanted only in
    some environments has a section ``[seeds.NAME]`` with its own ``seeddata`` folder; its
    rows build on those of the default branch (``extends``), and its first revision depends
    on that branch's head.
    """

    config: Config
    seeddata: Path
    spec: SeedSpec
    metadata: sa.MetaData
    versions: Path
    branch: str
    depends_on: str | None
    #: Seed data folders of the branches this one builds on: read for references only.
    base_seeddata: tuple[Path, ...] = ()

    def for_branch(self, branch: str | None) -> SeedsProject:
        """The same project, for ``branch`` (None: this one)."""
        if branch is None or branch == self.branch:
            return self
        return SeedsProject.from_config(self.config, branch)

    @classmethod
    def from_config(cls, config: Config, branch: str | None = None) -> SeedsProject:
        def option(name: str, default: str | None = None, section: str = SECTION) -> str:
            value = config.get_section_option(section, name, default)
            if value is None:
                raise ConfigError(
                    f"{config.config_file_name}: [{section}] needs the option {name!r}"
                )
            return value

        # As Alembic does before it loads env.py, so that the spec and metadata can be
        # imported from the project's folder.
        for entry in reversed(config.get_prepend_sys_paths_list() or []):
            if entry not in sys.path:
                sys.path.insert(0, entry)
        metadata = import_target(option("metadata"), config)
        if not isinstance(metadata, sa.MetaData):
            raise ConfigError(f"[{SECTION}] metadata = {option('metadata')} is not a MetaData")
        spec_target = option("spec", "")
        if spec_target:
            # Imported here: an upgrade reads only [seeds] metadata (through import_target).
            from alembic_seeds.dataset.spec import SeedSpec  # noqa: PLC0415

            spec = import_target(spec_target, config)
            if not isinstance(spec, SeedSpec):
                raise ConfigError(f"[{SECTION}] spec = {spec_target} is not a SeedSpec")
        else:
            # Imported here: a project with a spec of its own never needs it.
            from alembic_seeds.dataset.derive import derive_spec  # noqa: PLC0415

            spec = derive_spec(metadata, _names(option("tables", "")) or None)
        default = cls(
            config=config,
            seeddata=Path(option("seeddata")),
            spec=spec,
            metadata=metadata,
            versions=Path(option("versions")),
            branch=option("branch", "seeds"),
            depends_on=option("depends_on", "") or None,
        )
        if branch is None or branch == default.branch:
            return default
        section = f"{SECTION}.{branch}"
        if section not in config.file_config.sections():
            raise ConfigError(
                f"{config.config_file_name}: no [{section}] section for branch {branch!r}"
            )
        extends = option("extends", default.branch, section).split()
        unknown = [name for name in extends if name != default.branch]
        if unknown:
            raise ConfigError(f"[{section}] extends {unknown}: only {default.branch!r} can be")
        return cls(
            config=config,
            seeddata=Path(option("seeddata", section=section)),
            spec=spec,
            metadata=metadata,
            versions=Path(option("versions", str(default.versions), section)),
            branch=branch,
            depends_on=option("depends_on", f"{default.branch}@head", section) or None,
            base_seeddata=(default.seeddata,) if extends else (),
        )


def _names(text: str) -> list[str]:
    """``a, b c``: names separated by commas, spaces or lines."""
    return [name for name in re.split(r"[\s,]+", text) if name]


def import_target(target: str, config: Config | None = None) -> Any:
    """What ``package.module:name`` (or ``package.module:name.attribute``) names.

    With the ``config`` it is named in, a module that is not found is explained by where that
    configuration makes Python look.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{target!r} must look like 'package.module:name'")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except ModuleNotFoundError as error:
        own = error.name is not None and f"{module_name}.".startswith(f"{error.name}.")
        hint = _search_path_hint(config) if own and config is not None else ""
        raise ConfigError(f"cannot import {target!r}: {error}{hint}") from None
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"cannot import {target!r}: {error}") from None
    return value


def _search_path_hint(config: Config) -> str:
    """Alembic's ``prepend_sys_path = .`` (what ``alembic init`` writes) is the folder a
    command runs in, not the folder of alembic.ini: the usual reason a project's own module
    is not found when a command runs from elsewhere (``-c path/alembic.ini``)."""
    relative = [
        entry
        for entry in config.get_prepend_sys_paths_list() or []
        if not Path(entry).is_absolute()
    ]
    if not relative:
        return ""
    return (
        f" (prepend_sys_path = {' '.join(relative)} in {config.config_file_name} is relative "
        f"to the folder the command runs in, {Path.cwd()}: run it from the project's folder, "
        "or write %(here)s there instead)"
    )
