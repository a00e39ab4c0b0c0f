"""The geography's seed spec: the one derived from its tables."""

from __future__ import annotations

from alembic_seeds import derive_spec
from geography_fixture.models import metadata

SPEC = derive_spec(metadata)
