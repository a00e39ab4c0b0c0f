"""two labels swap their codes, two items their positions and notes

Revision ID: a11c00000003
Revises: a11c00000002
"""

from alembic_seeds import DataRevision

revision = "a11c00000003"
down_revision = "a11c00000002"
branch_labels = None
depends_on = None

CHANGES = {
    "item": {
        "updates": [
            {
                "key": {"id": "I1"},
                "before": {"note": "first", "position": 1},
                "after": {"note": "second", "position": 2},
            },
            {
                "key": {"id": "I2"},
                "before": {"note": "second", "position": 2},
                "after": {"note": "first", "position": 1},
            },
        ]
    },
    "label": {
        "updates": [
            {"key": {"id": "L1"}, "before": {"code": "alpha"}, "after": {"code": "beta"}},
            {"key": {"id": "L2"}, "before": {"code": "beta"}, "after": {"code": "alpha"}},
        ]
    },
}
data = DataRevision(revision, __file__, changes=CHANGES)


def upgrade() -> None:
    data.upgrade()


def downgrade() -> None:
    data.downgrade()
