"""Progress of long bulk loads: the apply engine calls back, the caller prints."""

from __future__ import annotations

import io

import sqlalchemy as sa

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.apply.progress import EVERY_ROWS
from alembic_seeds.changes.changeset import ChangeSet, TableChanges
from alembic_seeds.migration.progress import TerminalProgress, terminal_progress


def test_the_engine_reports_every_few_thousand_rows_and_the_end() -> None:
    metadata = sa.MetaData()
    sa.Table("word", metadata, sa.Column("id", sa.Integer, primary_key=True))
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    total = 2 * EVERY_ROWS + 5
    calls: list[tuple[str, int, int]] = []
    rows = [{"id": i} for i in range(total)]
    with engine.begin() as connection:
        apply_changes(
            connection,
            metadata,
            ChangeSet({"word": TableChanges(inserts=rows)}),
            progress=lambda table, done, of: calls.append((table, done, of)),
        )
    engine.dispose()
    assert calls == [
        ("word", EVERY_ROWS, total),
        ("word", 2 * EVERY_ROWS, total),
        ("word", total, total),
    ]


def test_terminal_progress_rewrites_one_line_and_ends_it() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(stream, interval=0.0)
    progress("Translation", 20_000, 40_000)
    progress("Translation", 40_000, 40_000)
    first, last = stream.getvalue().split("\r\x1b[2K")[1:]
    assert first.startswith("  Translation: 20,000/40,000 rows (") and not first.endswith("\n")
    assert last.startswith("  Translation: 40,000/40,000 rows (") and last.endswith("\n")
    assert terminal_progress(io.StringIO()) is None  # not a terminal: no progress lines
