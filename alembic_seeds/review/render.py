"""Change sets for people: plain text for a terminal, markdown for a pull request comment.

Every changed row is named as ``dataset.labels.RowNamer`` names it (by the display name
its spec gives it, by default its label) and by its primary key. Inserts and deletes show
the row's values, updates only the changed columns as ``before -> after``. Values are shown
whole, as JSON (so that a text with line breaks stays on one line and ``""`` differs from
``null``); a foreign key value is followed by the name of the row it points to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from alembic_seeds.changes.changeset import ChangeSet, Key, RowUpdate
from alembic_seeds.dataset.labels import RowNamer, one_line

Format = Literal["text", "markdown"]
FORMATS: tuple[Format, ...] = ("text", "markdown")

#: Rows listed per table in markdown before "... and N more" (a pull request comment is
#: limited in size; the text form always lists every row).
MARKDOWN_MAX_ROWS = 50
#: Markdown lists longer than this are folded into a ``<details>`` element.
MARKDOWN_FOLD = 10
#: Size a markdown document keeps under by listing fewer rows per table (GitHub takes
#: comments of up to 65,536 characters).
MARKDOWN_MAX_CHARS = 60_000


def first_line(text: str) -> str:
    """The first non-blank line of ``text`` (error messages, revision docstrings)."""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


# ---------------------------------------------------------------------------------------
# What a document says about a change set.


@dataclass(frozen=True)
class Header:
    """The title of a rendered change set and its facts (``name: value`` lines)."""

    title: str
    facts: Sequence[tuple[str, str]] = field(default_factory=tuple)


Operation = Literal["insert", "update", "delete"]

_OPERATIONS: tuple[tuple[Operation, str, str], ...] = (
    ("insert", "+", "inserted"),
    ("update", "~", "updated"),
    ("delete", "-", "deleted"),
)


@dataclass(frozen=True)
class Entry:
    """One changed row, ready to show: label, key, and the lines under it."""

    operation: Operation
    label: str
    key: str
    #: (column, shown value) for inserts and deletes; (column, before, after) for updates.
    details: list[tuple[str, str]] | list[tuple[str, str, str]]


def table_entries(namer: RowNamer, table: str, changes: ChangeSet) -> Iterator[Entry]:
    """The changed rows of ``table``: inserts, then updates, then deletes, each by label."""
    table_changes = changes.tables[table]
    for row in sorted(table_changes.inserts, key=lambda r: namer.sort_key(table, r)):
        yield Entry(
            "insert", namer.label(table, row), namer.key_text(table, row), namer.values(table, row)
        )
    for update in sorted(table_changes.updates, key=lambda u: namer.sort_key(table, u.key)):
        yield Entry(
            "update",
            namer.label(table, update.key),
            namer.key_text(table, update.key),
            _update_details(namer, table, update),
        )
    for row in sorted(table_changes.deletes, key=lambda r: namer.sort_key(table, r)):
        yield Entry(
            "delete", namer.label(table, row), namer.key_text(table, row), namer.values(table, row)
        )


def _update_details(namer: RowNamer, table: str, update: RowUpdate) -> list[tuple[str, str, str]]:
    return [
        (
            column,
            namer.value(table, column, update.before.get(column)),
            namer.value(table, column, update.after.get(column)),
        )
        for column in sorted(set(update.before) | set(update.after))
    ]


def table_summary(counts: Mapping[str, int]) -> str:
    """``650 inserted, 2 updated`` (operations without rows left out)."""
    parts = [f"{counts[word]} {word}" for _, _, word in _OPERATIONS if counts.get(word)]
    return ", ".join(parts) or "no changes"


# ---------------------------------------------------------------------------------------
# Plain text.


def render_text(
    changes: ChangeSet, namer: RowNamer, header: Header | None = None, max_rows: int | None = None
) -> str:
    return "".join(f"{line}\n" for line in text_lines(changes, namer, header, max_rows))


def text_lines(
    changes: ChangeSet, namer: RowNamer, header: Header | None = None, max_rows: int | None = None
) -> Iterator[str]:
    if header is not None:
        yield header.title
        width = max((len(name) for name, _ in header.facts), default=0)
        for name, value in header.facts:
            yield f"  {name:<{width}}  {value}"
        yield ""
    if not changes:
        yield "No changes."
        return
    yield from _counts_table(changes)
    for table in sorted(changes.tables):
        yield ""
        yield f"{table}: {table_summary(changes.counts()[table])}"
        yield from _text_entries(table_entries(namer, table, changes), max_rows)


def _counts_table(changes: ChangeSet) -> Iterator[str]:
    counts = changes.counts()
    width = max([len(table) for table in counts] + [len("total")])
    yield f"  {'table':<{width}}  {'inserted':>8}  {'updated':>8}  {'deleted':>8}"
    rows = [*counts.items(), ("total", changes.totals())]
    for table, c in rows:
        yield f"  {table:<{width}}  {c['inserted']:>8}  {c['updated']:>8}  {c['deleted']:>8}"


def _limited(
    entries: Iterator[Entry], max_rows: int | None, left_out: list[int]
) -> Iterator[Entry]:
    """The first ``max_rows`` entries (all with None); ``left_out[0]`` counts the rest."""
    for shown, entry in enumerate(entries):
        if max_rows is not None and shown >= max_rows:
            left_out[0] += 1
        else:
            yield entry


def _text_entries(entries: Iterator[Entry], max_rows: int | None) -> Iterator[str]:
    signs = {operation: sign for operation, sign, _ in _OPERATIONS}
    skipped = [0]
    for entry in _limited(entries, max_rows, skipped):
        yield f"  {signs[entry.operation]} {entry.label}  [{entry.key}]"
        for detail in entry.details:
            yield f"      {detail[0]}: {' -> '.join(detail[1:])}"
    if skipped[0]:
        yield f"  ... and {skipped[0]} more"


# ---------------------------------------------------------------------------------------
# Markdown, for a pull request comment.


def render_markdown(
    changes: ChangeSet,
    namer: RowNamer,
    header: Header | None = None,
    max_rows: int | None = MARKDOWN_MAX_ROWS,
    max_chars: int | None = MARKDOWN_MAX_CHARS,
) -> str:
    """The markdown document, listing up to ``max_rows`` rows per table (None: all), fewer
    when that is needed to keep it under ``max_chars`` characters (None: no limit)."""

    def document(limit: int | None) -> str:
        return "".join(f"{line}\n" for line in markdown_lines(changes, namer, header, limit))

    text = document(max_rows)
    if max_chars is None or len(text) <= max_chars:
        return text
    # The largest number of rows per table that fits, found by bisection.
    low, high = (
        0,
        max_rows
        if max_rows is not None
        else max((c.size for c in changes.tables.values()), default=0),
    )
    best = document(0)
    while low < high:
        middle = (low + high + 1) // 2
        candidate = document(middle)
        if len(candidate) <= max_chars:
            low, best = middle, candidate
        else:
            high = middle - 1
    return best


def markdown_lines(
    changes: ChangeSet,
    namer: RowNamer,
    header: Header | None = None,
    max_rows: int | None = MARKDOWN_MAX_ROWS,
) -> Iterator[str]:
    if header is not None:
        yield f"### {md_text(header.title)}"
        yield ""
        for name, value in header.facts:
            yield f"- {md_text(name)}: {md_text(value)}"
        yield ""
    if not changes:
        yield "No changes."
        return
    yield "| table | inserted | updated | deleted |"
    yield "| --- | ---: | ---: | ---: |"
    for table, c in changes.counts().items():
        yield f"| {md_code(table)} | {c['inserted']} | {c['updated']} | {c['deleted']} |"
    totals = changes.totals()
    yield (
        f"| **total** | **{totals['inserted']}** | **{totals['updated']}** "
        f"| **{totals['deleted']}** |"
    )
    for table in sorted(changes.tables):
        counts = changes.counts()[table]
        yield ""
        yield f"#### {md_code(table)}: {table_summary(counts)}"
        yield ""
        size = changes.tables[table].size
        fold = size > MARKDOWN_FOLD
        if fold:
            yield f"<details><summary>{size} rows</summary>"
            yield ""
        yield from _markdown_entries(table_entries(namer, table, changes), max_rows)
        if fold:
            yield ""
            yield "</details>"


def _markdown_entries(entries: Iterator[Entry], max_rows: int | None) -> Iterator[str]:
    words = {operation: word for operation, _, word in _OPERATIONS}
    skipped = [0]
    for entry in _limited(entries, max_rows, skipped):
        details = "; ".join(
            f"{md_code(detail[0])} {' → '.join(md_code(text) for text in detail[1:])}"
            for detail in entry.details
        )
        line = f"- {words[entry.operation]} **{md_text(entry.label)}** ({md_code(entry.key)})"
        yield f"{line}: {details}" if details else line
    if skipped[0]:
        yield f"- ... and {skipped[0]} more (the text format lists every row)"


_MARKDOWN_SPECIAL = frozenset("\\`*_[]<>|~&$")


def md_text(text: str) -> str:
    """``text`` on one line, with every character markdown could take as markup escaped."""
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIAL else char for char in one_line(text))


def md_code(text: str) -> str:
    """``text`` as an inline code span, whatever backticks it holds."""
    text = text.replace("\n", " ")
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text.strip() else text
    return f"{fence}{padded}{fence}"


def render_lines(
    changes: ChangeSet,
    namer: RowNamer,
    output_format: Format,
    header: Header | None = None,
    max_rows: int | None = None,
) -> Iterator[str]:
    """``render``, line by line: text is made as it is read (every row of a first import is
    never held as one text); markdown, limited to a pull request comment, at once."""
    if output_format == "markdown":
        yield from render(changes, namer, output_format, header, max_rows).splitlines()
    else:
        yield from text_lines(changes, namer, header, max_rows or None)


def render(
    changes: ChangeSet,
    namer: RowNamer,
    output_format: Format,
    header: Header | None = None,
    max_rows: int | None = None,
) -> str:
    """``changes`` in ``output_format``, listing ``max_rows`` rows per table (0: all).

    None lists every row in text; in markdown, up to ``MARKDOWN_MAX_ROWS`` per table, fewer
    if the document would not fit in a pull request comment.
    """
    if output_format == "markdown":
        if max_rows is None:
            return render_markdown(changes, namer, header)
        return render_markdown(changes, namer, header, max_rows or None, max_chars=None)
    return render_text(changes, namer, header, max_rows or None)


# ---------------------------------------------------------------------------------------
# Drift: a database against the state its applied revisions produce.


def drift_lines(
    changes: ChangeSet, namer: RowNamer, writer: Callable[[str, Key], str | None]
) -> Iterator[str]:
    """One entry per drifted row, naming its table, label, key and revision.

    ``changes`` turns the database into the expected state (``diff(expected, database)``):
    inserts are missing rows, deletes extra rows, updates differing rows (``before`` the
    database's values). ``writer`` names the last applied revision that wrote a row.
    """
    for table in sorted(changes.tables):
        table_changes = changes.tables[table]
        for update in sorted(table_changes.updates, key=lambda u: namer.sort_key(table, u.key)):
            row = update.key
            yield (
                f"  {table}  {namer.label(table, row)}  [{namer.key_text(table, row)}]"
                f"  {_written(writer(table, namer.key(table, row)))}"
            )
            for column in sorted(update.after):
                database = namer.value(table, column, update.before.get(column))
                expected = namer.value(table, column, update.after.get(column))
                yield f"      {column}: database {database}, expected {expected}"
        for row in sorted(table_changes.inserts, key=lambda r: namer.sort_key(table, r)):
            key = namer.key(table, row)
            yield (
                f"  {table}  missing from the database: {namer.label(table, row)}"
                f"  [{namer.key_text(table, row)}]  {_written(writer(table, key))}"
            )
            for column, text in namer.values(table, row):
                yield f"      {column}: expected {text}"
        for row in sorted(table_changes.deletes, key=lambda r: namer.sort_key(table, r)):
            key = namer.key(table, row)
            revision = writer(table, key)
            origin = (
                f"(deleted by revision {revision})"
                if revision
                else "(no applied revision wrote it)"
            )
            yield (
                f"  {table}  extra in the database: {namer.label(table, row)}"
                f"  [{namer.key_text(table, row)}]  {origin}"
            )
            for column, text in namer.values(table, row):
                yield f"      {column}: database {text}"


def _written(revision: str | None) -> str:
    return f"(last written by revision {revision})" if revision else "(no applied revision)"
