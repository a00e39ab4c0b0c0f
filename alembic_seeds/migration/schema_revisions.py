"""New schema revisions that change what data revisions wrote depend on those revisions.

``alembic revision --autogenerate`` runs this (``process_revision_directives``, set by the
env hook): when the new revision drops, renames or makes NOT NULL a column that a data
revision wrote, or drops or renames a table one wrote, it gets the data heads in its
``depends_on``. Then ``alembic upgrade`` (``heads``, ``schema@head`` or ``seeds@head``)
always runs those data revisions first, and a downgrade takes it back first. A revision that
only adds (tables, nullable columns, columns with a default, enum labels) needs nothing: the
data revisions before it do not name what it adds, and those after it depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from alembic_seeds.apply.shapes import named_columns
from alembic_seeds.migration.replay import data_of, data_revisions_under

logger = logging.getLogger("alembic_seeds")


def depend_on_data(
    context: MigrationContext, revision: Any, directives: Sequence[ops.MigrationScript]
) -> None:
    """Alembic's ``process_revision_directives``: add the data heads to ``depends_on`` of a
    new schema revision that changes columns or tables data revisions wrote."""
    scripts = context.script
    if scripts is None:
        return
    for directive in directives:
        if not isinstance(directive, ops.MigrationScript) or directive.upgrade_ops is None:
            continue
        changed = list(_changed(directive.upgrade_ops))
        if not changed:
            continue
        _add_data_heads(scripts, directive, changed)


def _changed(operation: ops.MigrateOperation) -> Iterator[tuple[str, str | None, str]]:
    """(table, column or None for the whole table, what happens) of every operation that
    changes or removes what rows hold."""
    if isinstance(operation, ops.OpContainer):
        for inner in operation.ops:
            yield from _changed(inner)
    elif isinstance(operation, ops.DropColumnOp):
        yield operation.table_name, operation.column_name, "drops"
    elif isinstance(operation, ops.AlterColumnOp):
        if operation.modify_name is not None:
            yield operation.table_name, operation.column_name, "renames"
        if operation.modify_nullable is False:
            yield operation.table_name, operation.column_name, "makes NOT NULL"
        if operation.modify_type is not None:
            yield operation.table_name, operation.column_name, "changes the type of"
    elif isinstance(operation, ops.DropTableOp):
        yield operation.table_name, None, "drops"
    elif isinstance(operation, ops.RenameTableOp):
        yield operation.table_name, None, "renames"


def _add_data_heads(
    scripts: ScriptDirectory,
    directive: ops.MigrationScript,
    changed: list[tuple[str, str | None, str]],
) -> None:
    heads = list(scripts.get_heads())
    written: dict[str, set[str]] = {}
    for _script, data in data_revisions_under(scripts, heads):
        for table, table_changes in data.change_set().tables.items():
            written.setdefault(table, set()).update(named_columns(table_changes))
    reasons = [
        f"{what} {table}" + (f".{column}" if column else "")
        for table, column, what in changed
        if table in written and (column is None or column in written[table])
    ]
    if not reasons:
        return
    below: set[str] = set()
    try:
        starts = scripts.get_revisions(directive.head or "head")
    except (CommandError, RevisionError):
        return  # Alembic says what is wrong with --head itself
    for start in starts:
        if start is not None:
            below |= {s.revision for s in scripts.iterate_revisions(start.revision, "base")}
    data_heads = [
        head
        for head in heads
        if head not in below and (script := scripts.get_revision(head)) and data_of(script)
    ]
    if not data_heads:
        return
    existing = directive.depends_on
    current = [existing] if isinstance(existing, str) else list(existing or ())
    directive.depends_on = list(dict.fromkeys([*current, *data_heads]))
    logger.info(
        "the new schema revision %s, which data revisions wrote: it depends_on %s, so that "
        "they always run before it",
        ", ".join(reasons),
        ", ".join(data_heads),
    )
