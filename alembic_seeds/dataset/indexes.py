"""What the databases' indexes can hold: rows whose index entry is too large for a backend.

A value that fits its column may still not fit an index over it: PostgreSQL refuses a btree
entry larger than about a third of a page, and InnoDB an index key over 3072 bytes. Such a
row passes every other check and then fails at deploy, inside the revision. So the sizes are
counted here, from the values alone, before any connection is opened: as each backend lays
an entry out (UTF-8 text, the headers and alignment of PostgreSQL's index tuples, InnoDB's
length bytes), never smaller than the database would count it. A value the database could
store only compressed is refused too: whether it compresses is not known beforehand.

The seed data is one for every environment (validated where no database is at hand, say in
CI, and deployed on PostgreSQL), so every backend whose limit is known is checked, whatever
database a project's URL names. SQLite has no such limit.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from alembic_seeds.changes.changeset import Dataset, Key

Columns = Sequence[sa.Column[Any]]


class PostgresqlBtree:
    """A PostgreSQL btree index (version 4, 8 kB pages: every PostgreSQL since 12)."""

    name = "PostgreSQL"
    #: ``BTMaxItemSize``: a third of a page less the page's own overhead.
    limit = 2704
    _HEADER = 8  # IndexTupleData: the heap tuple's address and the size and flags
    _NULL_BITMAP = 4  # present when any column of the entry is null
    _MAXALIGN = 8
    _SHORT_VARLENA = 126  # texts up to this many bytes get a 1-byte length header

    def applies_to(self, index: sa.Index | None) -> bool:
        using = None if index is None else index.dialect_options["postgresql"]["using"]
        return using in (None, "btree")

    def entry_size(self, columns: Columns, values: Sequence[Any]) -> int:
        offset = self._HEADER
        if any(value is None for value in values):
            offset = _align(offset + self._NULL_BITMAP, self._MAXALIGN)
        for column, value in zip(columns, values, strict=True):
            if value is None:
                continue
            fixed = _postgresql_fixed(column.type)
            if fixed is not None:
                length, alignment = fixed
                offset = _align(offset, alignment) + length
                continue
            length = _byte_length(value)
            if length <= self._SHORT_VARLENA:
                offset += 1 + length  # unaligned, 1-byte header
            else:
                offset = _align(offset, 4) + 4 + length
        return _align(offset, self._MAXALIGN)


class InnodbDynamic:
    """A MySQL or MariaDB InnoDB index of a table in the DYNAMIC (the default) row format."""

    name = "MySQL/MariaDB (InnoDB)"
    #: The largest index key of the DYNAMIC and COMPRESSED row formats (16 kB pages).
    limit = 3072

    def applies_to(self, index: sa.Index | None) -> bool:
        if index is None:
            return True
        options = index.dialect_options["mysql"]
        # A prefix index holds the first bytes only; FULLTEXT and SPATIAL are not B-trees.
        return options["length"] is None and options["prefix"] is None

    def entry_size(self, columns: Columns, values: Sequence[Any]) -> int:
        size = 0
        for column, value in zip(columns, values, strict=True):
            size += 1 if column.nullable else 0
            if value is None:
                continue
            fixed = _mysql_fixed(column.type)
            size += fixed if fixed is not None else 2 + _byte_length(value)
        return size


Backend = PostgresqlBtree | InnodbDynamic

#: Every backend whose index limit is known.
KNOWN_BACKENDS: tuple[Backend, ...] = (PostgresqlBtree(), InnodbDynamic())


@dataclass(frozen=True)
class Oversized:
    """A row whose entry in one index is larger than some backends can hold."""

    table: str
    key: Key
    columns: tuple[str, ...]
    #: (backend, entry size in bytes, its limit), for every backend that refuses it.
    refused: tuple[tuple[str, int, int], ...]

    def detail(self) -> str:
        sizes = "; ".join(
            f"{backend} holds at most {limit} bytes, this entry takes {size}"
            for backend, size, limit in self.refused
        )
        return (
            f"{self.table} ({', '.join(self.columns)}): too large for an index over these "
            f"columns ({sizes}); shorten the value, or index less of it"
        )


@dataclass(frozen=True)
class Entry:
    """The entry of one row in one index, as PostgreSQL lays it out."""

    table: str
    row: Mapping[str, Any]
    columns: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class _IndexCheck:
    columns: tuple[sa.Column[Any], ...]
    #: The names of the constraints and indexes over these columns (where they have one).
    names: tuple[str, ...]
    backends: tuple[Backend, ...]
    #: A row whose values have at most this many characters (texts) fits every backend.
    safe_characters: int


def oversized_rows(
    metadata: sa.MetaData, dataset: Dataset, skip: Callable[[str, Key], bool] = lambda *_: False
) -> Iterator[Oversized]:
    """Every row of ``dataset`` with an index entry some known backend cannot hold."""
    for table_name, rows in dataset.items():
        checks = _index_checks(metadata.tables[table_name])
        if not checks or not rows:
            continue
        for check in checks:
            names = tuple(column.name for column in check.columns)
            if _longest(rows.values(), check.columns) <= check.safe_characters:
                continue  # the common case: no row comes near any limit
            for key, row in rows.items():
                values = [row.get(name) for name in names]
                if _characters(values) <= check.safe_characters or skip(table_name, key):
                    continue
                refused = tuple(
                    (backend.name, size, backend.limit)
                    for backend in check.backends
                    if (size := backend.entry_size(check.columns, values)) > backend.limit
                )
                if refused:
                    yield Oversized(table_name, key, names, refused)


def _index_checks(table: sa.Table) -> list[_IndexCheck]:
    """The indexes of ``table`` that a value can make too large, once per column set."""
    groups: dict[tuple[str, ...], tuple[tuple[sa.Column[Any], ...], list[str], list[Backend]]] = {}

    def add(columns: Sequence[Any], name: Any, index: sa.Index | None) -> None:
        if not columns or not all(isinstance(column, sa.Column) for column in columns):
            return  # an expression index: its entries are not known from the values
        if all(_postgresql_fixed(column.type) is not None for column in columns):
            return  # fixed-width columns only: an entry is always small
        key = tuple(column.name for column in columns)
        _, names, backends = groups.setdefault(key, (tuple(columns), [], []))
        if isinstance(name, str):
            names.append(name)
        for backend in KNOWN_BACKENDS:
            if backend.applies_to(index) and backend not in backends:
                backends.append(backend)

    add(list(table.primary_key.columns), table.primary_key.name, None)
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            add(list(constraint.columns), constraint.name, None)
    for index in table.indexes:
        add(list(index.expressions), index.name, index)
    checks = []
    for columns, names, backends in groups.values():
        if not backends:
            continue
        # Every character takes at most 4 bytes (and a length header) in any backend.
        overhead = 32 + 8 * len(columns)
        safe = (min(backend.limit for backend in backends) - overhead) // 4
        checks.append(_IndexCheck(columns, tuple(names), tuple(backends), safe))
    return checks


def largest_postgresql_entry(
    metadata: sa.MetaData,
    rows: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    table: str | None = None,
    index: str | None = None,
) -> Entry | None:
    """The largest btree entry that ``rows`` (by table; whole rows or a key with changed
    columns) make, in ``table`` and the index named ``index`` when they are known."""
    largest: Entry | None = None
    for name, table_rows in rows.items():
        if name not in metadata.tables or table not in (None, name):
            continue
        checks = [
            check
            for check in _index_checks(metadata.tables[name])
            if any(isinstance(backend, PostgresqlBtree) for backend in check.backends)
        ]
        named = [check for check in checks if index in check.names]
        btree = PostgresqlBtree()
        for row in table_rows:
            for check in named or checks:
                values = [row.get(column.name) for column in check.columns]
                size = btree.entry_size(check.columns, values)
                if largest is None or size > largest.size:
                    names = tuple(column.name for column in check.columns)
                    largest = Entry(name, row, names, size)
    return largest


def _longest(rows: Collection[Mapping[str, Any]], columns: Columns) -> int:
    """An upper bound of ``_characters`` over ``rows``: the longest value of each column."""
    total = 0
    for column in columns:
        if _postgresql_fixed(column.type) is not None:
            total += 64
            continue
        try:
            # Texts, all present: at C speed (this runs over every row of a large load).
            total += max(map(len, map(operator.itemgetter(column.name), rows)), default=0)
        except (KeyError, TypeError):
            total += max((_characters([row.get(column.name)]) for row in rows), default=0)
    return total


def _characters(values: Sequence[Any]) -> int:
    total = 0
    for value in values:
        if isinstance(value, str):
            total += len(value)
        elif value is not None:
            total += 64  # numbers, dates: fixed width, or short as text
    return total


def _byte_length(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, Mapping | list):
        return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    return len(str(value).encode("utf-8"))


def _align(offset: int, alignment: int) -> int:
    return -(-offset // alignment) * alignment


#: Fixed-width types, most specific first: (type, PostgreSQL (length, alignment), bytes of
#: a MySQL key part). A native enum is an OID on PostgreSQL, an ENUM (2 bytes) on MySQL.
_FIXED_WIDTHS: tuple[tuple[type[sa.types.TypeEngine[Any]], tuple[int, int], int], ...] = (
    (sa.Boolean, (1, 1), 1),
    (sa.SmallInteger, (2, 2), 2),
    (sa.BigInteger, (8, 8), 8),
    (sa.Integer, (4, 4), 4),
    (sa.Float, (8, 8), 8),
    (sa.DateTime, (8, 8), 8),
    (sa.Time, (8, 8), 8),
    (sa.Date, (4, 4), 3),
    (sa.Interval, (16, 8), 8),
    (sa.Uuid, (16, 1), 32),  # CHAR(32) of hex digits on MySQL
)


def _fixed_width(
    column_type: sa.types.TypeEngine[Any],
) -> tuple[tuple[int, int], int] | None:
    if isinstance(column_type, sa.Enum):
        return ((4, 4), 2) if column_type.native_enum else None
    for kind, postgresql, mysql in _FIXED_WIDTHS:
        if isinstance(column_type, kind):
            return postgresql, mysql
    return None


def _postgresql_fixed(column_type: sa.types.TypeEngine[Any]) -> tuple[int, int] | None:
    """(length, alignment) of a fixed-width PostgreSQL type; None for variable width."""
    fixed = _fixed_width(column_type)
    return None if fixed is None else fixed[0]


def _mysql_fixed(column_type: sa.types.TypeEngine[Any]) -> int | None:
    """Bytes of a fixed-width MySQL key part; None for variable width."""
    fixed = _fixed_width(column_type)
    return None if fixed is None else fixed[1]
