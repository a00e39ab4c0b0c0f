"""The ``[seeds]`` section of ``alembic.ini``: where a project keeps its seed data."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config

from alembic_seeds.dataset.spec import SeedSpec

SECTION = "seeds"


class ProjectError(ValueError):
    """``alembic.ini`` does not say what alembic-seeds needs."""


@dataclass(frozen=True)
class SeedsProject:
    config: Config
    seeddata: Path
    spec: SeedSpec
    metadata: sa.MetaData
    versions: Path
    branch: str
    depends_on: str | None

    @classmethod
    def from_config(cls, config: Config) -> SeedsProject:
        def option(name: str, default: str | None = None) -> str:
            value = config.get_section_option(SECTION, name, default)
            if value is None:
                raise ProjectError(
                    f"{config.config_file_name}: [{SECTION}] needs the option {name!r}"
                )
            return value

        spec = _import(option("spec"))
        metadata = _import(option("metadata"))
        if not isinstance(spec, SeedSpec):
            raise ProjectError(f"[{SECTION}] spec = {option('spec')} is not a SeedSpec")
        if not isinstance(metadata, sa.MetaData):
            raise ProjectError(f"[{SECTION}] metadata = {option('metadata')} is not a MetaData")
        return cls(
            config=config,
            seeddata=Path(option("seeddata")),
            spec=spec,
            metadata=metadata,
            versions=Path(option("versions")),
            branch=option("branch", "seeds"),
            depends_on=option("depends_on", "") or None,
        )


def _import(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise ProjectError(f"{target!r} must look like 'package.module:name'")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise ProjectError(f"cannot import {target!r}: {error}") from None
