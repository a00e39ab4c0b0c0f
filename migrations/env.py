"""Alembic environment: the Lumina schema and its reference data, one history."""

from alembic_seeds.environment import run
from lumina.models import metadata

run(target_metadata=metadata)
