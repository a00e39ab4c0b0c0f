"""Alembic environment: the Lumina schema and its reference data, one history.

The models are those `[seeds] metadata` of alembic.ini names, imported only by the commands
that need them (autogenerate, a data revision): `alembic current` starts without them.
"""

import alembic_seeds

alembic_seeds.run_migrations()
