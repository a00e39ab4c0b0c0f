"""Alembic environment of the tree fixture project."""

from tree_fixture.models import metadata

import alembic_seeds

alembic_seeds.run_migrations(target_metadata=metadata)
