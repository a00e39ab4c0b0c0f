"""``seeds revision --autogenerate``: a new data revision from the difference between the
state the existing revisions produce (replayed offline) and ``seeddata/``."""

from __future__ import annotations

import datetime
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from alembic.util import rev_id as new_revision_id
from mako.template import Template  # type: ignore[import-untyped]

from alembic_seeds.changes.changeset import ChangeSet, Dataset, Key, diff
from alembic_seeds.changes.sidecar import write_sidecar
from alembic_seeds.dataset.edits import Rename, TextEdit
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.dataset.load import load_seeddata, primary_keys
from alembic_seeds.dataset.spec import Links, SeedSpec
from alembic_seeds.dataset.write import write_seeddata
from alembic_seeds.errors import ConfigError
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.replay import (
    Loss,
    Replayed,
    data_revisions,
    data_revisions_under,
    replay,
    replay_branch,
    schema_heads,
)
from alembic_seeds.migration.source import comment, docstring_lines, escape, literal

#: Change sets with more changes than this go to a sidecar file next to the revision.
INLINE_LIMIT = 200


@dataclass(frozen=True)
class Generated:
    revision: str
    path: Path
    sidecar: Path | None
    changes: ChangeSet
    #: The seed data folder of the branch (where new ids were written back).
    seeddata: Path
    #: Rows of the seed data that were written without an id and got one, by table.
    assigned_ids: dict[str, int] = field(default_factory=dict)
    #: Texts edited in one of their places, now written into all of them.
    text_edits: tuple[TextEdit, ...] = ()
    #: Rows whose label changed, now referred to by the new one everywhere.
    renames: tuple[Rename, ...] = ()


@dataclass(frozen=True)
class Pending:
    """What ``seeddata/`` holds that no revision of the branch captures yet."""

    changes: ChangeSet
    desired: Dataset
    current: Dataset
    keys: dict[str, tuple[str, ...]]
    #: New rows written without an id, which got one in ``desired``.
    assigned_ids: list[tuple[str, Key]]
    #: ``desired`` and the rows of the branches it builds on (for labels).
    context: Dataset
    #: The revisions ``current`` was replayed from (their modules loaded once).
    scripts: ScriptDirectory
    #: Texts edited in one of their places: ``desired`` holds the edit in all of them.
    text_edits: list[TextEdit] = field(default_factory=list)
    #: Rows referred to by an old label somewhere: ``desired`` refers to them all the same.
    renames: list[Rename] = field(default_factory=list)
    #: Seeded values that schema revisions drop (a downgrade past them is not exact).
    losses: list[Loss] = field(default_factory=list)

    @property
    def rewrites_seeddata(self) -> bool:
        """Whether capturing the changes rewrites lines of ``seeddata/`` too."""
        return bool(self.assigned_ids or self.text_edits or self.renames)


def pending_changes(project: SeedsProject, branch: str | None = None) -> Pending:
    project = project.for_branch(branch)
    keys = primary_keys(project.metadata, project.spec.tables())

    # Replayed when first needed: problems of seeddata/ are found before any revision loads.
    @functools.cache
    def scripts() -> ScriptDirectory:
        return ScriptDirectory.from_config(project.config)

    @functools.cache
    def replayed() -> Replayed:
        return replay_branch(scripts(), project.branch, keys, project.metadata)

    def current() -> Dataset:
        return replayed().state

    loaded = load_seeddata(
        project.seeddata,
        project.spec,
        project.metadata,
        base=project.base_seeddata,
        used_ids=_RevisionIds(scripts, keys),
        previous=lambda: previous_state(project, scripts(), current()),
    )
    desired = loaded.own_rows()
    changes = _naming_every_field(diff(desired, current(), keys), project.spec)
    return Pending(
        changes,
        desired,
        current(),
        keys,
        loaded.assigned_ids,
        loaded.rows,
        scripts(),
        loaded.text_edits,
        loaded.renames,
        replayed().losses,
    )


def _naming_every_field(changes: ChangeSet, spec: SeedSpec) -> ChangeSet:
    """``changes`` with every inserted row naming each column its file writes, a field left
    out as null: a data revision writes exactly the columns it names (see
    ``apply.shapes``), so that a default the table gets later never stands in for a null
    that ``seeddata/`` meant."""
    for table, table_changes in changes.tables.items():
        rows = spec.row_spec(table)
        if rows is None or not table_changes.inserts:
            continue
        columns = [kind.column for kind in rows.fields.values() if not isinstance(kind, Links)]
        table_changes.inserts = [
            row if all(c in row for c in columns) else dict.fromkeys(columns) | row
            for row in table_changes.inserts
        ]
    return changes


def previous_state(
    project: SeedsProject, scripts: ScriptDirectory, own: Dataset | None = None
) -> Dataset:
    """What the data revisions produce for ``project``'s branch (``own``, when replayed
    already) together with the branch it builds on: the state ``seeddata/`` was edited from."""
    keys = primary_keys(project.metadata, project.spec.tables())
    state = replay(scripts, project.branch, keys, project.metadata) if own is None else own
    if not project.base_seeddata:
        return state
    base = SeedsProject.from_config(project.config)
    merged = replay(scripts, base.branch, keys, project.metadata)
    for table, rows in state.items():
        merged[table] = {**merged.get(table, {}), **rows}
    return merged


def autogenerate(
    project: SeedsProject,
    message: str,
    branch: str | None = None,
    revision: str | None = None,
) -> Generated | None:
    """Write a revision holding the pending changes; None when there are none."""
    project = project.for_branch(branch)
    branch = project.branch
    pending = pending_changes(project)
    changes = pending.changes
    if not changes:
        return None
    scripts = pending.scripts
    existing = data_revisions(scripts, branch)
    down_revision = existing[-1][0].revision if existing else None
    depends_on = _depends_on(scripts, project, down_revision)
    revision = revision or new_revision_id()
    created = datetime.datetime.now(datetime.UTC)
    path = Path(scripts._rev_path(str(project.versions), revision, message, created))
    sidecar = path.with_suffix(".changes.jsonl") if changes.size > INLINE_LIMIT else None
    namer = RowNamer(project.spec, project.metadata, pending.keys, pending.context, pending.current)
    text = render_revision(
        message=message,
        revision=revision,
        down_revision=down_revision,
        branch_labels=None if down_revision else (branch,),
        depends_on=depends_on,
        create_date=created,
        changes=changes,
        sidecar=sidecar.name if sidecar else None,
        namer=namer,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write under temporary names and rename: a failure leaves no half-written revision
    # for Alembic to trip over.
    partials = [path.with_name(path.name + ".partial")]
    if sidecar is not None:
        partials.append(sidecar.with_name(sidecar.name + ".partial"))
    try:
        if sidecar is not None:
            write_sidecar(partials[1], changes)
        partials[0].write_text(text, encoding="utf-8")
    except BaseException:
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise
    if sidecar is not None:
        partials[1].replace(sidecar)
    partials[0].replace(path)
    assigned = _count_by_table(
        (table, key) for table, key in pending.assigned_ids if key in pending.desired[table]
    )
    if pending.rewrites_seeddata:
        # From now on new rows are known by the ids the revision gave them, an edited text
        # is written alike in every place, and references use the labels rows have now.
        write_seeddata(project.seeddata, project.spec, pending.context, only=pending.desired)
    return Generated(
        revision,
        path,
        sidecar,
        changes,
        project.seeddata,
        assigned,
        tuple(pending.text_edits),
        tuple(pending.renames),
    )


def _count_by_table(rows: Iterable[tuple[str, Key]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, _key in rows:
        counts[table] = counts.get(table, 0) + 1
    return counts


class _RevisionIds:
    """The highest id of each single-column integer key that any data revision (of any
    branch) inserted, updated or deleted: a new row never takes an id a revision used, even
    one whose row is gone since. Computed on first use, in one pass over the revisions."""

    def __init__(
        self, scripts: Callable[[], ScriptDirectory], keys: Mapping[str, tuple[str, ...]]
    ) -> None:
        self._scripts = scripts
        self._keys = keys
        self._highest: dict[str, int] | None = None

    def __call__(self, table: str) -> list[int]:
        if self._highest is None:
            self._highest = self._scan()
        return [self._highest[table]] if table in self._highest else []

    def _scan(self) -> dict[str, int]:
        highest: dict[str, int] = {}
        scripts = self._scripts()
        for _script, data in data_revisions_under(scripts, scripts.get_heads()):
            for table, table_changes in data.change_set().tables.items():
                columns = self._keys.get(table, ())
                if len(columns) != 1:
                    continue
                (column,) = columns
                rows = itertools.chain(
                    table_changes.inserts,
                    (update.key for update in table_changes.updates),
                    table_changes.deletes,
                )
                for row in rows:
                    value = row.get(column)
                    if isinstance(value, int) and not isinstance(value, bool):
                        highest[table] = max(highest.get(table, value), value)
        return highest


def _depends_on(
    scripts: ScriptDirectory, project: SeedsProject, down_revision: str | None
) -> tuple[str, ...]:
    """What a new data revision depends on: the schema it was written for, every schema
    head (and, for a branch's first revision, what ``[seeds] depends_on`` names), save
    those its down revision builds on already. So ``alembic upgrade seeds@head`` alone
    never runs it before the schema revisions it needs."""
    wanted: list[str] = []
    if down_revision is None and project.depends_on:
        wanted.append(_revision_id(scripts, project.depends_on))
    below: set[str] = set()
    for start in [down_revision, *wanted]:
        if start is not None:
            below |= {script.revision for script in scripts.iterate_revisions(start, "base")}
    wanted += [head for head in schema_heads(scripts) if head not in below]
    return tuple(dict.fromkeys(wanted))


def _revision_id(scripts: ScriptDirectory, name: str) -> str:
    try:
        script = scripts.get_revision(name)
    except CommandError as error:
        # Several heads, most often: the schema branched and was not merged.
        raise ConfigError(
            f"[seeds] depends_on = {name}: {error} (merge the schema's heads with alembic "
            "merge heads, or name the one revision the first data revision needs)"
        ) from None
    if script is None:
        raise ConfigError(f"[seeds] depends_on = {name}: no such revision")
    return script.revision


def render_revision(
    *,
    message: str,
    revision: str,
    down_revision: str | None,
    branch_labels: tuple[str, ...] | None,
    depends_on: tuple[str, ...],
    create_date: datetime.datetime,
    changes: ChangeSet,
    sidecar: str | None,
    namer: RowNamer,
) -> str:
    template_text = (
        resources.files("alembic_seeds.migration")
        .joinpath("templates/data_revision.py.mako")
        .read_text(encoding="utf-8")
    )
    rendered: str = Template(template_text).render(
        message_lines=docstring_lines(message) if message.strip() else ["(no message)"],
        revision=revision,
        down_revision=down_revision,
        literal=literal,
        branch_labels=branch_labels,
        depends_on=depends_on[0] if len(depends_on) == 1 else (depends_on or None),
        create_date=create_date.strftime("%Y-%m-%d %H:%M:%S UTC"),
        summary=[escape(line) for line in summary_lines(changes)],
        sidecar=sidecar,
        changes_literal=None if sidecar else changes_literal(changes, namer),
    )
    return rendered


def summary_lines(changes: ChangeSet) -> list[str]:
    counts = changes.counts()
    width = max((len(table) for table in counts), default=5)
    return [
        f"{table:<{width}}  +{c['inserted']} inserted  ~{c['updated']} updated  "
        f"-{c['deleted']} deleted"
        for table, c in counts.items()
    ]


def changes_literal(changes: ChangeSet, namer: RowNamer) -> str:
    """The change set as a Python literal, one row per line, each under its label."""
    return "{\n" + "".join(_table_literal(changes, namer)) + "}"


def _table_literal(changes: ChangeSet, namer: RowNamer) -> Iterator[str]:
    for table, table_changes in sorted(changes.tables.items()):
        yield f"    {literal(table)}: {{\n"
        sections: list[tuple[str, list[tuple[Mapping[str, Any], str]]]] = [
            ("inserts", [(row, literal(row)) for row in table_changes.inserts]),
            (
                "updates",
                [
                    (u.key, literal({"key": u.key, "before": u.before, "after": u.after}))
                    for u in table_changes.updates
                ],
            ),
            ("deletes", [(row, literal(row)) for row in table_changes.deletes]),
        ]
        for name, entries in sections:
            if not entries:
                continue
            yield f"        {literal(name)}: [\n"
            for row, row_literal in entries:
                yield f"            # {comment(namer.label(table, row))}\n"
                yield f"            {row_literal},\n"
            yield "        ],\n"
        yield "    },\n"
