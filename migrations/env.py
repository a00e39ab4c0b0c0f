"""Alembic environment: the Lumina schema and its reference data, one history."""

import alembic_seeds
from lumina.models import metadata

alembic_seeds.run_migrations(target_metadata=metadata)
