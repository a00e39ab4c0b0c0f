"""Alembic environment of the geography fixture: its schema and reference data, one history."""

from geography_fixture.models import metadata

import alembic_seeds

alembic_seeds.run_migrations(target_metadata=metadata)
