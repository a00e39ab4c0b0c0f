"""one row gone, two with larger keys

Revision ID: c0a700000003
Revises: c0a700000002
"""

from alembic_seeds import DataRevision

revision = "c0a700000003"
down_revision = "c0a700000002"
branch_labels = None
depends_on = None

CHANGES = {
    "colour": {
        "inserts": [{"id": 10, "name": "colour 10"}, {"id": 11, "name": "colour 11"}],
        "deletes": [{"id": 2, "name": "colour 2"}],
    },
    "shape": {
        "inserts": [{"id": 10, "name": "shape 10"}, {"id": 11, "name": "shape 11"}],
        "deletes": [{"id": 2, "name": "shape 2"}],
    },
    "size": {
        "inserts": [{"id": 10, "name": "size 10"}, {"id": 11, "name": "size 11"}],
        "deletes": [{"id": 2, "name": "size 2"}],
    },
}
data = DataRevision(revision, __file__, changes=CHANGES)


def upgrade() -> None:
    data.upgrade()


def downgrade() -> None:
    data.downgrade()
