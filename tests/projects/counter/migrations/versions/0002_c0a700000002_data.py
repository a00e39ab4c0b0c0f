"""three rows with explicit keys in each table

Revision ID: c0a700000002
Revises: c0a700000001
"""

from alembic_seeds import DataRevision

revision = "c0a700000002"
down_revision = "c0a700000001"
branch_labels = None
depends_on = None

CHANGES = {
    "colour": {
        "inserts": [
            {"id": 1, "name": "colour 1"},
            {"id": 2, "name": "colour 2"},
            {"id": 3, "name": "colour 3"},
        ]
    },
    "shape": {
        "inserts": [
            {"id": 1, "name": "shape 1"},
            {"id": 2, "name": "shape 2"},
            {"id": 3, "name": "shape 3"},
        ]
    },
    "size": {
        "inserts": [
            {"id": 1, "name": "size 1"},
            {"id": 2, "name": "size 2"},
            {"id": 3, "name": "size 3"},
        ]
    },
}
data = DataRevision(revision, __file__, changes=CHANGES)


def upgrade() -> None:
    data.upgrade()


def downgrade() -> None:
    data.downgrade()
