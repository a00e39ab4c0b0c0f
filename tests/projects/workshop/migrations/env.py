"""Alembic environment of the workshop project: its schema and seed data, one history."""

from keyed_workshop.models import metadata

import alembic_seeds

alembic_seeds.run_migrations(target_metadata=metadata)
