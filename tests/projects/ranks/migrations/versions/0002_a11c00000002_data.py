"""three labels, three items, two pairings and two tags

Revision ID: a11c00000002
Revises: a11c00000001
"""

from alembic_seeds import DataRevision

revision = "a11c00000002"
down_revision = "a11c00000001"
branch_labels = None
depends_on = None

CHANGES = {
    "item": {
        "inserts": [
            {"id": "I1", "label_id": "L1", "position": 1, "note": "first"},
            {"id": "I2", "label_id": "L1", "position": 2, "note": "second"},
            {"id": "I3", "label_id": "L2", "position": 1, "note": None},
        ]
    },
    "label": {
        "inserts": [
            {"id": "L1", "code": "alpha", "title": "First"},
            {"id": "L2", "code": "beta", "title": "Second"},
            {"id": "L3", "code": "gamma", "title": "Third"},
        ]
    },
    "pairing": {
        "inserts": [
            {"id": "P1", "left_id": "L1", "right_id": "L2"},
            {"id": "P2", "left_id": "L2", "right_id": "L3"},
        ]
    },
    "pairing_tag": {
        "inserts": [{"pairing_id": "P1", "tag": "x"}, {"pairing_id": "P1", "tag": "y"}]
    },
}
data = DataRevision(revision, __file__, changes=CHANGES)


def upgrade() -> None:
    data.upgrade()


def downgrade() -> None:
    data.downgrade()
