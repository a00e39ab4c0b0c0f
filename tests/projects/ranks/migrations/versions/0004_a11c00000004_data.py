"""re-key a label that a pairing refers to, an item, and a pairing with its tags

Revision ID: a11c00000004
Revises: a11c00000003
"""

from alembic_seeds import DataRevision

revision = "a11c00000004"
down_revision = "a11c00000003"
branch_labels = None
depends_on = None

CHANGES = {
    "item": {
        "inserts": [{"id": "I9", "label_id": "L2", "position": 1, "note": None}],
        "deletes": [{"id": "I3", "label_id": "L2", "position": 1, "note": None}],
    },
    "label": {
        "inserts": [{"id": "L9", "code": "gamma", "title": "Third"}],
        "deletes": [{"id": "L3", "code": "gamma", "title": "Third"}],
    },
    "pairing": {
        "inserts": [{"id": "P8", "left_id": "L1", "right_id": "L2"}],
        "updates": [
            {"key": {"id": "P2"}, "before": {"right_id": "L3"}, "after": {"right_id": "L9"}}
        ],
        "deletes": [{"id": "P1", "left_id": "L1", "right_id": "L2"}],
    },
    "pairing_tag": {
        "inserts": [{"pairing_id": "P8", "tag": "x"}, {"pairing_id": "P8", "tag": "y"}],
        "deletes": [{"pairing_id": "P1", "tag": "x"}, {"pairing_id": "P1", "tag": "y"}],
    },
}
data = DataRevision(revision, __file__, changes=CHANGES)


def upgrade() -> None:
    data.upgrade()


def downgrade() -> None:
    data.downgrade()
