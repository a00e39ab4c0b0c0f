"""a tree whose children come before their parents in key order

Revision ID: 7e1a00000002
Revises: 7e1a00000001
"""

from alembic_seeds import DataRevision

revision = "7e1a00000002"
down_revision = "7e1a00000001"
branch_labels = None
depends_on = None

CHANGES = {
    "branch": {
        "inserts": [
            {"id": "a-leaf", "parent_id": "m-middle", "name": "%(x)s"},
            {"id": "c-branch", "parent_id": "z-root", "name": "tab\there\t"},
            {"id": "m-middle", "parent_id": "z-root", "name": "%s and %d"},
            {"id": "t-06", "parent_id": "a-leaf", "name": "$$ dollar $$ $tag$ body $tag$"},
            {"id": "t-07", "parent_id": "a-leaf", "name": "line one\nline two\n"},
            {"id": "t-08", "parent_id": "a-leaf", "name": "crlf\r\nline"},
            {"id": "t-09", "parent_id": "a-leaf", "name": "-- not a comment"},
            {"id": "t-10", "parent_id": "a-leaf", "name": "/* nor this */"},
            {"id": "t-11", "parent_id": "a-leaf", "name": ":colon :name"},
            {"id": "t-12", "parent_id": "a-leaf", "name": "? and ?"},
            {"id": "t-13", "parent_id": "a-leaf", "name": "; DROP TABLE node; --"},
            {"id": "t-14", "parent_id": "a-leaf", "name": " spaces  "},
            {"id": "t-15", "parent_id": "a-leaf", "name": "עברית 100%"},
            {"id": "x-twig", "parent_id": "c-branch", "name": "back\\slash \\n \\\\"},
            {"id": "y-bud", "parent_id": "x-twig", "name": 'it\'s "quoted"'},
            {"id": "z-root", "parent_id": None, "name": "100% sure"},
        ]
    },
    "node": {
        "inserts": [
            {"id": "a-leaf", "parent_id": "m-middle", "name": "%(x)s"},
            {"id": "c-branch", "parent_id": "z-root", "name": "tab\there\t"},
            {"id": "m-middle", "parent_id": "z-root", "name": "%s and %d"},
            {"id": "t-06", "parent_id": "a-leaf", "name": "$$ dollar $$ $tag$ body $tag$"},
            {"id": "t-07", "parent_id": "a-leaf", "name": "line one\nline two\n"},
            {"id": "t-08", "parent_id": "a-leaf", "name": "crlf\r\nline"},
            {"id": "t-09", "parent_id": "a-leaf", "name": "-- not a comment"},
            {"id": "t-10", "parent_id": "a-leaf", "name": "/* nor this */"},
            {"id": "t-11", "parent_id": "a-leaf", "name": ":colon :name"},
            {"id": "t-12", "parent_id": "a-leaf", "name": "? and ?"},
            {"id": "t-13", "parent_id": "a-leaf", "name": "; DROP TABLE node; --"},
            {"id": "t-14", "parent_id": "a-leaf", "name": " spaces  "},
            {"id": "t-15", "parent_id": "a-leaf", "name": "עברית 100%"},
            {"id": "x-twig", "parent_id": "c-branch", "name": "back\\slash \\n \\\\"},
            {"id": "y-bud", "parent_id": "x-twig", "name": 'it\'s "quoted"'},
            {"id": "z-root", "parent_id": None, "name": "100% sure"},
        ]
    },
}
data = DataRevision(revision, __file__, changes=CHANGES)


def upgrade() -> None:
    data.upgrade()


def downgrade() -> None:
    data.downgrade()
