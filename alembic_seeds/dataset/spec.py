"""How rows of the database are written in ``seeddata/`` files.

A project describes each file with a ``FileSpec``: which table its lines are rows of, and
for each key of a line's JSON object what it stands for. References to other rows are
written by their label (a natural key such as an English name), never by a primary key
that a person would have to look up.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from alembic_seeds.errors import ConfigError


@dataclass(frozen=True)
class Value:
    """A plain column value."""

    column: str


@dataclass(frozen=True)
class Ref:
    """A reference to one row of ``table``, written as that row's label.

    ``{"id": ...}`` refers by primary key instead (used only where a label is ambiguous).
    With ``inline``, the value may also be the whole target row as an object: the row is
    defined in place, and identical definitions in several places are one row.
    """

    column: str
    table: str
    inline: bool = False


@dataclass(frozen=True)
class Owned:
    """The primary key of a row of ``table`` that exists only for this row.

    The owned row's label is ``label`` with ``{owner}`` replaced by the owner's label.
    """

    column: str
    table: str
    label: str


@dataclass(frozen=True)
class Links:
    """A list of labels, each one row of the join ``table`` between this row and another."""

    table: str
    own_column: str
    other_column: str
    other_table: str


Field = Value | Ref | Owned | Links


@dataclass(frozen=True)
class RowSpec:
    """The JSON form of a row of ``table``.

    ``label`` is a template over the keys of ``fields`` (``"{name} @ {university}"``);
    a referenced row contributes its own label. References to the row are written as its
    label. With ``unique_label``, two rows with the same label are an error: the label is a
    natural key.

    ``display`` is how reviews and revision comments name the row, a template of the same
    kind (``"{en} | {he}"``); without it they show the label.
    """

    table: str
    fields: Mapping[str, Field]
    label: str | None = None
    unique_label: bool = False
    display: str | None = None

    def __post_init__(self) -> None:
        for option, template in (("label", self.label), ("display", self.display)):
            if template is None:
                continue
            for name in template_fields(template):
                if not isinstance(self.fields.get(name), Value | Ref):
                    usable = ", ".join(
                        key for key, kind in self.fields.items() if isinstance(kind, Value | Ref)
                    )
                    raise ConfigError(
                        f"RowSpec {self.table}: {option} {template!r} names {name!r}, which "
                        f"is not a Value or Ref field (those are: {usable})"
                    )

    def label_fields(self) -> list[str]:
        """The fields the label is made of."""
        return template_fields(self.label) if self.label is not None else []

    def field_for_column(self, column: str) -> str | None:
        for name, kind in self.fields.items():
            if not isinstance(kind, Links) and kind.column == column:
                return name
        return None


def template_fields(template: str) -> list[str]:
    """The field names a label or display template names, in order."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ConfigError(f"template {template!r}: {error}") from None
    names = []
    for _text, name, _format, _conversion in parsed:
        if name is None:
            continue
        if not name or "." in name or "[" in name:
            raise ConfigError(f"template {template!r}: {{{name}}} must name a field")
        names.append(name)
    return names


@dataclass(frozen=True)
class FileSpec:
    """One file of ``seeddata/`` (a path relative to it): one row per line."""

    path: str
    rows: RowSpec


@dataclass(frozen=True)
class SeedSpec:
    """Every file of a ``seeddata/`` folder, and the specs of rows that have no file."""

    files: tuple[FileSpec, ...]
    #: Row specs of tables written only inside other rows (owned rows, inline rows).
    embedded: tuple[RowSpec, ...] = field(default_factory=tuple)

    def row_spec(self, table: str) -> RowSpec | None:
        return self._row_specs.get(table)

    @functools.cached_property
    def _row_specs(self) -> dict[str, RowSpec]:
        # Looked up once per row read, written or shown: a dict, not a search. The first
        # spec of a table wins, files before embedded specs.
        found: dict[str, RowSpec] = {}
        for rows in [file.rows for file in self.files] + list(self.embedded):
            found.setdefault(rows.table, rows)
        return found

    def tables(self) -> list[str]:
        """Every table the seed data fills, join tables included."""
        names: dict[str, None] = {}
        for rows in [file.rows for file in self.files] + list(self.embedded):
            names[rows.table] = None
            for kind in rows.fields.values():
                if isinstance(kind, Links | Ref | Owned):
                    names[kind.table] = None
        return list(names)
