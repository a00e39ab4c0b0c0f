"""delete a subtree (parents first in key order), add one (children first), move a leaf into it

Revision ID: 7e1a00000003
Revises: 7e1a00000002
"""

from alembic_seeds import DataRevision

revision = "7e1a00000003"
down_revision = "7e1a00000002"
branch_labels = None
depends_on = None

CHANGES = {
    "branch": {
        "inserts": [
            {"id": "b-newchild", "parent_id": "d-new", "name": "new\tchild 50%"},
            {"id": "d-new", "parent_id": "z-root", "name": "%(y)s new"},
        ],
        "updates": [
            {
                "key": {"id": "a-leaf"},
                "before": {"name": "%(x)s", "parent_id": "m-middle"},
                "after": {"name": "moved\\ %% leaf", "parent_id": "d-new"},
            },
            {
                "key": {"id": "z-root"},
                "before": {"name": "100% sure"},
                "after": {"name": "100%% sure, 'really'"},
            },
        ],
        "deletes": [
            {"id": "c-branch", "parent_id": "z-root", "name": "tab\there\t"},
            {"id": "x-twig", "parent_id": "c-branch", "name": "back\\slash \\n \\\\"},
            {"id": "y-bud", "parent_id": "x-twig", "name": 'it\'s "quoted"'},
        ],
    },
    "node": {
        "inserts": [
            {"id": "b-newchild", "parent_id": "d-new", "name": "new\tchild 50%"},
            {"id": "d-new", "parent_id": "z-root", "name": "%(y)s new"},
        ],
        "updates": [
            {
                "key": {"id": "a-leaf"},
                "before": {"name": "%(x)s", "parent_id": "m-middle"},
                "after": {"name": "moved\\ %% leaf", "parent_id": "d-new"},
            },
            {
                "key": {"id": "z-root"},
                "before": {"name": "100% sure"},
                "after": {"name": "100%% sure, 'really'"},
            },
        ],
        "deletes": [
            {"id": "c-branch", "parent_id": "z-root", "name": "tab\there\t"},
            {"id": "x-twig", "parent_id": "c-branch", "name": "back\\slash \\n \\\\"},
            {"id": "y-bud", "parent_id": "x-twig", "name": 'it\'s "quoted"'},
        ],
    },
}
data = DataRevision(revision, __file__, changes=CHANGES)


def upgrade() -> None:
    data.upgrade()


def downgrade() -> None:
    data.downgrade()
