<%doc>
    The [seeds] section seeds init adds to alembic.ini.
</%doc>\

[seeds]
# alembic-seeds: the desired state of the reference data (seeddata), edited by people, and
# the data revisions generated from it (seeds revision --autogenerate).
seeddata = ${seeddata}
# The MetaData of the models (what env.py gives target_metadata), as module:attribute.
metadata = ${metadata}
# How seeddata files map onto tables: without "spec = package.module:NAME", derived from the
# metadata (of the tables "tables = ..." names, or all of them).
# Data revisions: their folder (one of version_locations), their branch label, and the
# schema revision the branch's first data revision depends on ("heads": the schema head at
# the time that revision is written, so it comes after the revisions creating its tables).
versions = ${versions}
branch = ${branch}
depends_on = ${depends_on}
