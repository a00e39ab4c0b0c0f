<%doc>
    The schema revision seeds init writes: it creates the log of applied data revisions.
</%doc>\
"""${message}

Revision ID: ${revision}
Revises: ${down_revision or "(none: the first revision)"}
Create Date: ${create_date}

Written by `seeds init`: the log of applied data revisions (revision, checksum, when, row
counts, duration), which every data revision writes to in its own transaction.
"""

from collections.abc import Sequence

from alembic import op

from alembic_seeds import create_log_table, drop_log_table

revision: str = "${revision}"
down_revision: str | Sequence[str] | None = ${f'"{down_revision}"' if down_revision else "None"}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_log_table(op)


def downgrade() -> None:
    drop_log_table(op)
