"""Alembic environment of the catalogue: the models [seeds] metadata names, one history."""

import importlib
import operator

from alembic import context

import alembic_seeds

# The models of the stage a copy of the project is at (the last stage here).
target = context.config.get_section_option("seeds", "metadata") or ""
module, _, attribute = target.partition(":")
metadata = operator.attrgetter(attribute)(importlib.import_module(module))
alembic_seeds.run_migrations(target_metadata=metadata)
