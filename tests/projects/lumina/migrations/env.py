"""Alembic environment of the frozen Lumina project: its schema and reference data, one history."""

from frozen_lumina.models import metadata

import alembic_seeds

alembic_seeds.run_migrations(target_metadata=metadata)
