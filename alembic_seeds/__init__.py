"""alembic-seeds: reference data as Alembic data migrations.

This module is the public API: what a project's ``env.py``, its seed spec and its data
revision scripts use. Everything else (the sub-packages) is internal and may change.

The names are loaded when first used, so that ``import alembic_seeds`` in ``env.py`` costs
nothing a command does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the internal module that defines it.
_EXPORTS = {
    # The env hook: the whole env.py in one call, or the pieces for a project's own env.py.
    "run_migrations": "alembic_seeds.migration.environment",
    "SeedsEnvironment": "alembic_seeds.migration.environment",
    # Schema revisions: the log of applied data revisions.
    "create_log_table": "alembic_seeds.migration.log",
    "drop_log_table": "alembic_seeds.migration.log",
    # Schema revisions: rebuilding a table that other tables refer to (SQLite batch mode).
    "table_rebuild": "alembic_seeds.migration.rebuild",
    # Data revision scripts.
    "DataRevision": "alembic_seeds.migration.revision",
    # The seed spec: how seeddata/ files map onto tables.
    "SeedSpec": "alembic_seeds.dataset.spec",
    "FileSpec": "alembic_seeds.dataset.spec",
    "RowSpec": "alembic_seeds.dataset.spec",
    "Value": "alembic_seeds.dataset.spec",
    "Ref": "alembic_seeds.dataset.spec",
    "Owned": "alembic_seeds.dataset.spec",
    "Links": "alembic_seeds.dataset.spec",
    "derive_spec": "alembic_seeds.dataset.derive",
    # Errors: one base class, and the kinds a caller may want to tell apart.
    "SeedsError": "alembic_seeds.errors",
    "ConfigError": "alembic_seeds.errors",
    "DatasetError": "alembic_seeds.errors",
    "Problem": "alembic_seeds.errors",
    "ChangeSetError": "alembic_seeds.errors",
    "UnknownRevision": "alembic_seeds.errors",
    "DatabaseAccessError": "alembic_seeds.errors",
    "LockTimeout": "alembic_seeds.errors",
    "ApplyError": "alembic_seeds.errors",
    "DriftError": "alembic_seeds.errors",
    "TableLockedError": "alembic_seeds.errors",
}

__all__ = [
    "ApplyError",
    "ChangeSetError",
    "ConfigError",
    "DataRevision",
    "DatabaseAccessError",
    "DatasetError",
    "DriftError",
    "FileSpec",
    "Links",
    "LockTimeout",
    "Owned",
    "Problem",
    "Ref",
    "RowSpec",
    "SeedSpec",
    "SeedsEnvironment",
    "SeedsError",
    "TableLockedError",
    "UnknownRevision",
    "Value",
    "__version__",
    "create_log_table",
    "derive_spec",
    "drop_log_table",
    "run_migrations",
    "table_rebuild",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'alembic_seeds' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from alembic_seeds.dataset.derive import derive_spec as derive_spec
    from alembic_seeds.dataset.spec import FileSpec as FileSpec
    from alembic_seeds.dataset.spec import Links as Links
    from alembic_seeds.dataset.spec import Owned as Owned
    from alembic_seeds.dataset.spec import Ref as Ref
    from alembic_seeds.dataset.spec import RowSpec as RowSpec
    from alembic_seeds.dataset.spec import SeedSpec as SeedSpec
    from alembic_seeds.dataset.spec import Value as Value
    from alembic_seeds.errors import ApplyError as ApplyError
    from alembic_seeds.errors import ChangeSetError as ChangeSetError
    from alembic_seeds.errors import ConfigError as ConfigError
    from alembic_seeds.errors import DatabaseAccessError as DatabaseAccessError
    from alembic_seeds.errors import DatasetError as DatasetError
    from alembic_seeds.errors import DriftError as DriftError
    from alembic_seeds.errors import LockTimeout as LockTimeout
    from alembic_seeds.errors import Problem as Problem
    from alembic_seeds.errors import SeedsError as SeedsError
    from alembic_seeds.errors import TableLockedError as TableLockedError
    from alembic_seeds.errors import UnknownRevision as UnknownRevision
    from alembic_seeds.migration.environment import SeedsEnvironment as SeedsEnvironment
    from alembic_seeds.migration.environment import run_migrations as run_migrations
    from alembic_seeds.migration.log import create_log_table as create_log_table
    from alembic_seeds.migration.log import drop_log_table as drop_log_table
    from alembic_seeds.migration.rebuild import table_rebuild as table_rebuild
    from alembic_seeds.migration.revision import DataRevision as DataRevision
