"""Alembic environment of the ranks fixture project."""

from ranks_fixture.models import metadata

import alembic_seeds

alembic_seeds.run_migrations(target_metadata=metadata)
