"""Alembic environment of the counter fixture project."""

from counter_fixture.models import metadata

import alembic_seeds

alembic_seeds.run_migrations(target_metadata=metadata)
