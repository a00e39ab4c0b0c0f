<%doc>
    The logger seeds init adds to alembic.ini: data revisions report per table there.
</%doc>\

[logger_alembic_seeds]
# Each data revision logs one line per table (inserted, updated, deleted, ...) and a total.
level = INFO
handlers =
qualname = alembic_seeds
